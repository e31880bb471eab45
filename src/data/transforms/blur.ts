// The segmentation reference's RandomGaussianBlur: cv2.GaussianBlur(image, (5, 5), 0).
//
// With sigma 0 and an odd kernel of at most 7 taps, OpenCV does not sample a Gaussian: it
// takes a fixed table (getGaussianKernel's small_gaussian_tab), for 5 taps the binomial
// [1, 4, 6, 4, 1] / 16. Its 8-bit path is bit-exact fixed point: both separable passes
// are exact with these weights and the result is rounded half up once, i.e.
//   out = (Σ_ij k_i k_j x_ij + 128) >> 8,   k = [1, 4, 6, 4, 1],
// with BORDER_REFLECT_101 (…, 2, 1 | 0, 1, 2, …) at the edges. That is what this computes;
// the test checks it against an independent numpy evaluation of the same formula.
import type { DecodedImage } from "../image.js";
import { assertCovers, clipWin, type Tile, untile, type Win, wholeTile, wholeWin } from "./tile.js";

/** OpenCV's fixed kernels for sigma ≤ 0, as integers over their sum 2^shift. */
const KERNELS: Record<number, { taps: number[]; shift: number }> = {
  3: { taps: [1, 2, 1], shift: 2 },
  5: { taps: [1, 4, 6, 4, 1], shift: 4 },
  7: { taps: [8, 28, 56, 72, 56, 28, 8], shift: 8 },
};

/** BORDER_REFLECT_101 index into [0, n). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** The source rectangle that window `win` of the blur reads. */
export function blurSourceWin(win: Win, w: number, h: number, ksize = 5): Win {
  const r = ksize >> 1;
  return clipWin({ x0: win.x0 - r, y0: win.y0 - r, x1: win.x1 + r, y1: win.y1 + r }, w, h);
}

/**
 * Window `win` of cv2.GaussianBlur(img, (ksize, ksize), 0), ksize 3, 5 or 7, reading
 * tile `src`; reflection happens at the borders of the whole image.
 */
export function gaussianBlurTile(src: Tile, ksize: number, win: Win): Tile {
  const kern = KERNELS[ksize];
  if (!kern)
    throw new RangeError(`Expected ksize 3, 5 or 7 for gaussianBlur but received ${ksize}`);
  const { data, channels: c, fullW: w, fullH: h } = src;
  const { x0, y0, x1, y1 } = clipWin(win, w, h);
  const tw = x1 - x0;
  const th = y1 - y0;
  const out = new Uint8Array(tw * th * c);
  if (tw === 0 || th === 0) return { ...src, data: out, width: tw, height: th, x0, y0 };
  const from = blurSourceWin({ x0, y0, x1, y1 }, w, h, ksize);
  // Reflected taps of window pixels stay inside `from` (for images of ≥ 3 px a side).
  assertCovers(src, from, "blur");
  const taps = Int32Array.from(kern.taps);
  const n = taps.length;
  const r = n >> 1;
  // Horizontal pass over the source rows [from.y0, from.y1), window columns only.
  const xoff = new Int32Array(tw * n);
  for (let x = 0; x < tw; x++)
    for (let t = 0; t < n; t++) xoff[x * n + t] = (reflect101(x0 + x + t - r, w) - src.x0) * c;
  const rowLen = tw * c;
  const rows = from.y1 - from.y0;
  const tmp = new Int32Array(rows * rowLen);
  const five = n === 5;
  for (let y = 0; y < rows; y++) {
    const base = (from.y0 + y - src.y0) * src.width * c;
    const tb = y * rowLen;
    for (let x = 0; x < tw; x++) {
      const xo = x * n;
      for (let k = 0; k < c; k++) {
        const b = base + k;
        let s: number;
        if (five) {
          // Unrolled [1, 4, 6, 4, 1], the kernel the pipeline uses.
          s =
            data[b + xoff[xo]] +
            4 * (data[b + xoff[xo + 1]] + data[b + xoff[xo + 3]]) +
            6 * data[b + xoff[xo + 2]] +
            data[b + xoff[xo + 4]];
        } else {
          s = 0;
          for (let t = 0; t < n; t++) s += taps[t] * data[b + xoff[xo + t]];
        }
        tmp[tb + x * c + k] = s;
      }
    }
  }
  // Vertical pass, then one rounding (half up) of the exact sum.
  const total = 2 * kern.shift;
  const half = 1 << (total - 1);
  const rowAt = new Int32Array(n);
  for (let y = y0; y < y1; y++) {
    for (let t = 0; t < n; t++) rowAt[t] = (reflect101(y + t - r, h) - from.y0) * rowLen;
    const ob = (y - y0) * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s: number;
      if (five) {
        s =
          tmp[rowAt[0] + i] +
          4 * (tmp[rowAt[1] + i] + tmp[rowAt[3] + i]) +
          6 * tmp[rowAt[2] + i] +
          tmp[rowAt[4] + i];
      } else {
        s = 0;
        for (let t = 0; t < n; t++) s += taps[t] * tmp[rowAt[t] + i];
      }
      out[ob + i] = (s + half) >> total;
    }
  }
  return { data: out, width: tw, height: th, channels: c, x0, y0, fullW: w, fullH: h };
}

/** cv2.GaussianBlur(img, (ksize, ksize), 0) on a whole 8-bit image; ksize 3, 5 or 7. */
export function gaussianBlurCv(img: DecodedImage, ksize = 5): DecodedImage {
  return untile(gaussianBlurTile(wholeTile(img), ksize, wholeWin(img.width, img.height)));
}
