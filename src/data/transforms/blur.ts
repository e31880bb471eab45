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

/** OpenCV's fixed kernels for sigma ≤ 0, as integers over their sum. */
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

/** cv2.GaussianBlur(img, (ksize, ksize), 0) on an 8-bit image; ksize 3, 5 or 7. */
export function gaussianBlurCv(img: DecodedImage, ksize = 5): DecodedImage {
  const kern = KERNELS[ksize];
  if (!kern)
    throw new RangeError(`Expected ksize 3, 5 or 7 for gaussianBlur but received ${ksize}`);
  const { data, width: w, height: h, channels: c } = img;
  const { taps, shift } = kern;
  const r = taps.length >> 1;
  // Column offsets (in elements) of each tap for each x, reflected at the borders.
  const xoff = new Int32Array(w * taps.length);
  for (let x = 0; x < w; x++)
    for (let t = 0; t < taps.length; t++) xoff[x * taps.length + t] = reflect101(x + t - r, w) * c;
  // Horizontal pass, exact integers (sum of weights = 2^shift).
  const rowLen = w * c;
  const tmp = new Int32Array(h * rowLen);
  for (let y = 0; y < h; y++) {
    const base = y * rowLen;
    for (let x = 0; x < w; x++) {
      const xo = x * taps.length;
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let t = 0; t < taps.length; t++) s += taps[t] * data[base + xoff[xo + t] + k];
        tmp[base + x * c + k] = s;
      }
    }
  }
  // Vertical pass, then one rounding (half up) of the exact sum.
  const out = new Uint8Array(h * rowLen);
  const total = 2 * shift;
  const half = 1 << (total - 1);
  for (let y = 0; y < h; y++) {
    const rows = taps.map((_, t) => reflect101(y + t - r, h) * rowLen);
    const ob = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s = 0;
      for (let t = 0; t < taps.length; t++) s += taps[t] * tmp[rows[t] + i];
      out[ob + i] = (s + half) >> total;
    }
  }
  return { data: out, width: w, height: h, channels: c };
}
