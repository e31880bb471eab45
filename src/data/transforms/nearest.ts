// Nearest-neighbour resize for label masks with Pillow 9.x's arithmetic
// (`Image.resize(size, NEAREST)`, which torchvision's F.resize calls on the PIL path):
// output pixel centres map into the source, x_src = trunc((x + 0.5) · w_in / w_out), the
// position stepped by repeated addition as Geometry.c's ImagingScaleAffine does — so
// the result is bit-identical to Pillow's. A label is only ever copied, never blended,
// which is why masks are resized this way.
import type { DecodedImage } from "../image.js";

/** Source index of each output column/row, as Pillow pretabulates it (-1: outside). */
function sourceIndex(inSize: number, outSize: number): Int32Array {
  const step = inSize / outSize;
  const tab = new Int32Array(outSize);
  let pos = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    const s = pos < 0 ? -1 : Math.trunc(pos);
    tab[i] = s < inSize ? s : -1;
    pos += step;
  }
  return tab;
}

/** Resizes any-channel 8-bit image to outW×outH, nearest neighbour, Pillow-exact. */
export function resizeNearestPil(img: DecodedImage, outW: number, outH: number): DecodedImage {
  const { data, width: w, height: h, channels: c } = img;
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
    throw new RangeError(`Expected a positive integer size but received ${outW}x${outH}`);
  }
  if (outW === w && outH === h) return { ...img, data: data.slice() };
  const xs = sourceIndex(w, outW);
  const ys = sourceIndex(h, outH);
  // Pillow zero-fills positions that fall outside the source (never for a plain resize).
  const out = new Uint8Array(outW * outH * c);
  for (let y = 0; y < outH; y++) {
    const sy = ys[y];
    if (sy < 0) continue;
    const srcRow = sy * w;
    const o = y * outW;
    if (c === 1) {
      for (let x = 0; x < outW; x++) if (xs[x] >= 0) out[o + x] = data[srcRow + xs[x]];
    } else {
      for (let x = 0; x < outW; x++) {
        if (xs[x] < 0) continue;
        const s = (srcRow + xs[x]) * c;
        for (let k = 0; k < c; k++) out[(o + x) * c + k] = data[s + k];
      }
    }
  }
  return { data: out, width: outW, height: outH, channels: c };
}
