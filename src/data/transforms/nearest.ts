// Nearest-neighbour resize for label masks with Pillow 9.x's arithmetic
// (`Image.resize(size, NEAREST)`, which torchvision's F.resize calls on the PIL path):
// output pixel centres map into the source, x_src = trunc((x + 0.5) · w_in / w_out), the
// position stepped by repeated addition as Geometry.c's ImagingScaleAffine does — so
// the result is bit-identical to Pillow's. A label is only ever copied, never blended,
// which is why masks are resized this way.
import type { DecodedImage } from "../image.js";
import { clipWin, type Tile, untile, type Win, wholeWin } from "./tile.js";

/** Source index of output columns/rows 0..end-1, as Pillow pretabulates them (-1: outside). */
function sourceIndex(inSize: number, outSize: number, end: number): Int32Array {
  const step = inSize / outSize;
  const tab = new Int32Array(end);
  // Stepped from 0 even for a window: the sum's rounding is part of the result.
  let pos = step * 0.5;
  for (let i = 0; i < end; i++) {
    const s = pos < 0 ? -1 : Math.trunc(pos);
    tab[i] = s < inSize ? s : -1;
    pos += step;
  }
  return tab;
}

/** Window `win` of the nearest resize of `img` (any channel count) to outW×outH. */
export function resizeNearestWin(img: DecodedImage, outW: number, outH: number, win: Win): Tile {
  const { data, width: w, height: h, channels: c } = img;
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
    throw new RangeError(`Expected a positive integer size but received ${outW}x${outH}`);
  }
  const { x0, y0, x1, y1 } = clipWin(win, outW, outH);
  const tw = x1 - x0;
  const th = y1 - y0;
  const xs = sourceIndex(w, outW, x1);
  const ys = sourceIndex(h, outH, y1);
  // Pillow zero-fills positions that fall outside the source (never for a plain resize).
  const out = new Uint8Array(tw * th * c);
  for (let y = y0; y < y1; y++) {
    const sy = ys[y];
    if (sy < 0) continue;
    const srcRow = sy * w;
    const o = (y - y0) * tw - x0;
    for (let x = x0; x < x1; x++) {
      if (xs[x] < 0) continue;
      if (c === 1) out[o + x] = data[srcRow + xs[x]];
      else for (let k = 0; k < c; k++) out[(o + x) * c + k] = data[(srcRow + xs[x]) * c + k];
    }
  }
  return { data: out, width: tw, height: th, channels: c, x0, y0, fullW: outW, fullH: outH };
}

/** Resizes an 8-bit image to outW×outH, nearest neighbour, Pillow-exact. */
export function resizeNearestPil(img: DecodedImage, outW: number, outH: number): DecodedImage {
  return untile(resizeNearestWin(img, outW, outH, wholeWin(outW, outH)));
}
