// The fast path of the augmentation: the same arithmetic as color.ts / geometry.ts /
// tensor.ts, with fewer passes over the pixels (each pass over a 224² image costs
// ~0.3 ms on a small CPU, which is what separates us from torchvision's C code).
//
// - Per-value colour ops (brightness, contrast's blend) are composed into one 256-entry
//   table instead of being applied; the table is applied only when a per-pixel op needs
//   the real values (contrast's mean, saturation, hue) or at the final write.
// - A horizontal flip is deferred to the final write when nothing after it depends on
//   position (colour ops do not).
// - The final write maps (table → /255 → lighting → clamp → normalise) through one
//   256-entry float32 table per channel and writes CHW directly into the batch.
// Results are bit-identical to applying the ops one by one (tested).
import type { DecodedImage } from "../image.js";
import { adjustHue, blend, blendLut, type JitterParams, luma } from "./color.js";
import type { FloatStage } from "./tensor.js";

const f32 = Math.fround;

export interface LazyPixels {
  img: DecodedImage;
  /** Pending per-value table, not yet applied to img.data; null = identity. */
  lut: Uint8Array | null;
  /** Pending horizontal flip. */
  flip: boolean;
}

export function lazy(img: DecodedImage): LazyPixels {
  return { img, lut: null, flip: false };
}

/** Applies everything pending; afterwards img is the true image. */
export function materialize(p: LazyPixels): DecodedImage {
  const { img } = p;
  if (p.lut) {
    const d = img.data;
    const lut = p.lut;
    for (let i = 0; i < d.length; i++) d[i] = lut[d[i]];
    p.lut = null;
  }
  if (p.flip) {
    const { data, width, height, channels: c } = img;
    for (let y = 0; y < height; y++) {
      const row = y * width * c;
      for (let a = 0, b = width - 1; a < b; a++, b--) {
        for (let k = 0; k < c; k++) {
          const t = data[row + a * c + k];
          data[row + a * c + k] = data[row + b * c + k];
          data[row + b * c + k] = t;
        }
      }
    }
    p.flip = false;
  }
  return img;
}

function compose(p: LazyPixels, next: Uint8Array): void {
  if (!p.lut) p.lut = next;
  else for (let v = 0; v < 256; v++) p.lut[v] = next[p.lut[v]];
}

/** ColorJitter with drawn parameters, lazily. */
export function colorJitterLazy(p: LazyPixels, j: JitterParams): void {
  if (p.img.channels !== 3) throw new Error("colorJitter expects an RGB image");
  for (const op of j.order) {
    if (op === 0 && j.brightness !== null) compose(p, blendLut(0, j.brightness));
    else if (op === 1 && j.contrast !== null) compose(p, blendLut(meanLuma(p), j.contrast));
    else if (op === 2 && j.saturation !== null) saturate(p, j.saturation);
    else if (op === 3 && j.hue !== null) {
      const flip = p.flip;
      p.flip = false; // hue is per pixel: only the pending table must be applied
      adjustHue(materialize(p), j.hue);
      p.flip = flip;
    }
  }
}

/** Mean luma of the (table-mapped) image, rounded as ImageEnhance.Contrast does. */
function meanLuma(p: LazyPixels): number {
  const d = p.img.data;
  const lut = p.lut;
  let sum = 0;
  if (lut) {
    for (let i = 0; i < d.length; i += 3) sum += luma(lut[d[i]], lut[d[i + 1]], lut[d[i + 2]]);
  } else {
    for (let i = 0; i < d.length; i += 3) sum += luma(d[i], d[i + 1], d[i + 2]);
  }
  return Math.trunc(sum / (p.img.width * p.img.height) + 0.5);
}

/** Saturation blend with the pending table applied in the same pass. */
function saturate(p: LazyPixels, factor: number): void {
  const a = f32(factor);
  const ex = a < 0 || a > 1;
  const d = p.img.data;
  const lut = p.lut ?? IDENTITY;
  for (let i = 0; i < d.length; i += 3) {
    const r = lut[d[i]];
    const g = lut[d[i + 1]];
    const b = lut[d[i + 2]];
    const l = luma(r, g, b);
    d[i] = blend(l, r, a, ex);
    d[i + 1] = blend(l, g, a, ex);
    d[i + 2] = blend(l, b, a, ex);
  }
  p.lut = null;
}

const IDENTITY = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Final write: pending table + flip + float stage, CHW float32 into out[offset...]. */
export function writeNormalizedChw(
  p: LazyPixels,
  stage: FloatStage,
  out: Float32Array,
  offset: number,
): void {
  const { data, width, height, channels: c } = p.img;
  const lut = p.lut ?? IDENTITY;
  const plane = width * height;
  const table = new Float32Array(256);
  for (let k = 0; k < c; k++) {
    // Same expression as toNormalizedChw, evaluated once per possible value.
    const add = stage.offset ? stage.offset[k] : 0;
    const mean = stage.mean[k];
    const inv = 1 / stage.std[k];
    for (let v = 0; v < 256; v++) {
      let x = lut[v] / 255 + add;
      if (stage.clamp) x = x < 0 ? 0 : Math.min(x, 1);
      table[v] = (x - mean) * inv;
    }
    const o = offset + k * plane;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      if (p.flip) {
        for (let x = 0, i = (row + width - 1) * c + k; x < width; x++, i -= c)
          out[o + row + x] = table[data[i]];
      } else {
        for (let x = 0, i = row * c + k; x < width; x++, i += c) out[o + row + x] = table[data[i]];
      }
    }
  }
}
