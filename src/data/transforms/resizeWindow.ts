// Pillow-exact bilinear resize of a whole image, computing only a window of the output.
//
// Same coefficients and fixed-point arithmetic as resample.ts's resizeBilinear (imported,
// not copied): each output value depends only on its own row/column coefficients, so
// the window's pixels are exactly those of the full resize. This is what lets the
// segmentation crop skip most of a 2× upscaled Cityscapes frame.
import type { DecodedImage } from "../image.js";
import { clip8, HALF, precompute } from "./resample.js";
import { clipWin, type Tile, type Win } from "./tile.js";

export function resizeBilinearWin(img: DecodedImage, outW: number, outH: number, win: Win): Tile {
  const { data: src, width: w, height: h, channels: c } = img;
  const { x0, y0, x1, y1 } = clipWin(win, outW, outH);
  const tw = x1 - x0;
  const th = y1 - y0;
  const needH = outW !== w;
  const needV = outH !== h;
  const vert = needV ? precompute(h, outH) : null;
  // Source rows the vertical pass reads for the window's rows.
  let rFirst = y0;
  let rLast = y1;
  if (vert && th > 0) {
    rFirst = h;
    rLast = 0;
    for (let yy = y0; yy < y1; yy++) {
      rFirst = Math.min(rFirst, vert.bounds[yy * 2]);
      rLast = Math.max(rLast, vert.bounds[yy * 2] + vert.bounds[yy * 2 + 1]);
    }
  }
  const rows = Math.max(rLast - rFirst, 0);
  const srcStride = w * c;
  const tmp = new Uint8Array(tw * rows * c);
  if (needH) {
    const { ksize, bounds, kk } = precompute(w, outW);
    for (let y = 0; y < rows; y++) {
      const rowBase = (rFirst + y) * srcStride;
      const outBase = y * tw * c;
      for (let xx = x0; xx < x1; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const kb = xx * ksize;
        for (let k = 0; k < c; k++) {
          let s = HALF;
          for (let x = 0, p = rowBase + xmin * c + k; x < xmax; x++, p += c)
            s = (s + Math.imul(src[p], kk[kb + x])) | 0;
          tmp[outBase + (xx - x0) * c + k] = clip8(s);
        }
      }
    }
  } else {
    for (let y = 0; y < rows; y++) {
      const s = (rFirst + y) * srcStride + x0 * c;
      tmp.set(src.subarray(s, s + tw * c), y * tw * c);
    }
  }
  const tile = { x0, y0, fullW: outW, fullH: outH, width: tw, channels: c };
  if (!vert) return { ...tile, data: tmp, height: th };

  const out = new Uint8Array(tw * th * c);
  const rowLen = tw * c;
  for (let yy = y0; yy < y1; yy++) {
    const ymin = vert.bounds[yy * 2] - rFirst;
    const ymax = vert.bounds[yy * 2 + 1];
    const kb = yy * vert.ksize;
    const base = ymin * rowLen;
    const ob = (yy - y0) * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = HALF;
      for (let y = 0, q = base + i; y < ymax; y++, q += rowLen)
        acc = (acc + Math.imul(tmp[q], vert.kk[kb + y])) | 0;
      out[ob + i] = clip8(acc);
    }
  }
  return { ...tile, data: out, height: th };
}
