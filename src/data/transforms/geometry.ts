// Geometric transforms with torchvision 0.14's semantics (PIL path).
//
// Each random transform is split into `...Params(rng, ...)`, which draws the parameters
// exactly as torchvision's get_params does, and a deterministic function applying fixed
// parameters — so parity tests can feed torchvision and us the same crop box.
import type { DecodedImage } from "../image.js";
import type { Rng } from "../rng.js";
import { type Box, resizeBilinear } from "./resample.js";

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface RrcOptions {
  scale?: [number, number];
  ratio?: [number, number];
}

/** torchvision.transforms.RandomResizedCrop.get_params: 10 attempts, then a centre crop. */
export function randomResizedCropParams(
  rng: Rng,
  width: number,
  height: number,
  { scale = [0.08, 1], ratio = [3 / 4, 4 / 3] }: RrcOptions = {},
): Box {
  const area = height * width;
  const logLo = Math.fround(Math.log(ratio[0]));
  const logHi = Math.fround(Math.log(ratio[1]));
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.randint(0, height - h + 1);
      const left = rng.randint(0, width - w + 1);
      return { left, top, width: w, height: h };
    }
  }
  // Fallback: the largest centred crop whose aspect ratio is within range.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) {
    w = width;
    h = roundHalfEven(w / Math.min(...ratio));
  } else if (inRatio > Math.max(...ratio)) {
    h = height;
    w = roundHalfEven(h * Math.max(...ratio));
  }
  return {
    left: Math.floor((width - w) / 2),
    top: Math.floor((height - h) / 2),
    width: w,
    height: h,
  };
}

/** F.resized_crop(img, top, left, h, w, [size, size], BILINEAR). */
export function resizedCrop(img: DecodedImage, box: Box, outW: number, outH: number): DecodedImage {
  return resizeBilinear(img, box, outW, outH);
}

/** Output size of Resize(size) with an int size: the shorter side becomes `size`. */
export function shorterSideSize(width: number, height: number, size: number): [number, number] {
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

/** T.Resize(size) with an int: shorter side to `size`, aspect kept, PIL bilinear. */
export function resizeShorter(img: DecodedImage, size: number): DecodedImage {
  const [w, h] = shorterSideSize(img.width, img.height, size);
  if (w === img.width && h === img.height) return img;
  return resizeBilinear(img, { left: 0, top: 0, width: img.width, height: img.height }, w, h);
}

/** T.CenterCrop(size): pads with zeros first when the image is smaller, like torchvision. */
export function centerCrop(img: DecodedImage, outW: number, outH: number, fill = 0): DecodedImage {
  let src = img;
  if (outW > img.width || outH > img.height) {
    const padL = outW > img.width ? Math.trunc((outW - img.width) / 2) : 0;
    const padT = outH > img.height ? Math.trunc((outH - img.height) / 2) : 0;
    const padR = outW > img.width ? Math.trunc((outW - img.width + 1) / 2) : 0;
    const padB = outH > img.height ? Math.trunc((outH - img.height + 1) / 2) : 0;
    src = pad(img, padL, padT, padR, padB, fill);
  }
  const top = roundHalfEven((src.height - outH) / 2);
  const left = roundHalfEven((src.width - outW) / 2);
  return crop(src, { left, top, width: outW, height: outH });
}

export function crop(img: DecodedImage, box: Box): DecodedImage {
  const c = img.channels;
  const out = new Uint8Array(box.width * box.height * c);
  const rowLen = box.width * c;
  for (let y = 0; y < box.height; y++) {
    const s = ((box.top + y) * img.width + box.left) * c;
    out.set(img.data.subarray(s, s + rowLen), y * rowLen);
  }
  return { data: out, width: box.width, height: box.height, channels: c };
}

/** Constant padding; `fill` is one value or one per channel. */
export function pad(
  img: DecodedImage,
  left: number,
  top: number,
  right: number,
  bottom: number,
  fill: number | number[] = 0,
): DecodedImage {
  const c = img.channels;
  const w = img.width + left + right;
  const h = img.height + top + bottom;
  const out = new Uint8Array(w * h * c);
  const f = typeof fill === "number" ? new Array<number>(c).fill(fill) : fill;
  if (f.some((v) => v !== 0))
    for (let i = 0; i < w * h; i++) for (let k = 0; k < c; k++) out[i * c + k] = f[k];
  const rowLen = img.width * c;
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * rowLen, (y + 1) * rowLen), ((y + top) * w + left) * c);
  }
  return { data: out, width: w, height: h, channels: c };
}

/** Mirror left–right, in place. */
export function hflipInPlace(img: DecodedImage): DecodedImage {
  const { data, width, height, channels: c } = img;
  for (let y = 0; y < height; y++) {
    const row = y * width * c;
    for (let a = 0, b = width - 1; a < b; a++, b--) {
      for (let k = 0; k < c; k++) {
        const i = row + a * c + k;
        const j = row + b * c + k;
        const t = data[i];
        data[i] = data[j];
        data[j] = t;
      }
    }
  }
  return img;
}
