// Rotation about the image centre, output the size of the input, with Pillow 9.x's
// arithmetic (Image.rotate(angle, resample, expand=False, fillcolor=…), which is what
// torchvision's F.rotate calls on the PIL path): BILINEAR for images, NEAREST for label
// masks, the uncovered area set to a constant (mean colour / ignore label).
//
// The segmentation reference (hszhao/semseg RandRotate) rotates with cv2.warpAffine;
// cv2 is not available as a test reference, Pillow is, so we follow Pillow exactly:
// - the inverse matrix rounds cos/sin to 15 decimals after reducing the angle mod 360;
// - output pixel centres (x + 0.5, y + 0.5) map back into the source (Geometry.c's
//   affine_transform), so the rotation is about the true centre (w/2, h/2);
// - bilinear: a source point outside [0, w) × [0, h) gets the fill colour; inside, the
//   2×2 neighbourhood is edge-clamped and the result *truncated* to uint8;
// - nearest uses 16.16 fixed point stepped incrementally (Geometry.c's affine_fixed).
// Every operation is done in the same order on IEEE doubles (or int32), so the output
// is bit-identical to Pillow's, and the tests require equality.
import type { DecodedImage } from "../image.js";

/** Python's round(x, 15): JS toFixed is exact decimal rounding, like Python's. */
function round15(x: number): number {
  return Number(x.toFixed(15));
}

/** Python's float `%`: the result takes the sign of the divisor. */
function pyMod(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && m < 0 !== b < 0 ? m + b : m;
}

/**
 * Pillow's inverse affine matrix [a, b, c, d, e, f] (source = A · destination) for a
 * counter-clockwise rotation by `angle` degrees about the image centre.
 */
export function rotationMatrix(angle: number, width: number, height: number): number[] {
  const cx = width / 2;
  const cy = height / 2;
  const rad = -(pyMod(angle, 360) * (Math.PI / 180));
  const m = [
    round15(Math.cos(rad)),
    round15(Math.sin(rad)),
    0,
    round15(-Math.sin(rad)),
    round15(Math.cos(rad)),
    0,
  ];
  // transform(-cx, -cy) then += centre, evaluated as Pillow writes it.
  m[2] = m[0] * -cx + m[1] * -cy + m[2] + cx;
  m[5] = m[3] * -cx + m[4] * -cy + m[5] + cy;
  return m;
}

function copyOf(img: DecodedImage): DecodedImage {
  return { ...img, data: img.data.slice() };
}

/** Image.rotate(angle, BILINEAR, fillcolor=fill) for an 8-bit image with any channel count. */
export function rotateBilinear(img: DecodedImage, angle: number, fill: number[]): DecodedImage {
  const { data, width: w, height: h, channels: c } = img;
  if (fill.length !== c) {
    throw new RangeError(`Expected ${c} fill values for rotate but received ${fill.length}`);
  }
  if (pyMod(angle, 360) === 0) return copyOf(img);
  const [a0, a1, a2, a3, a4, a5] = rotationMatrix(angle, w, h);
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    for (let x = 0; x < w; x++) {
      const xc = x + 0.5;
      let xin = a0 * xc + a1 * yc + a2;
      let yin = a3 * xc + a4 * yc + a5;
      const o = (y * w + x) * c;
      if (xin < 0 || xin >= w || yin < 0 || yin >= h) {
        for (let k = 0; k < c; k++) out[o + k] = fill[k];
        continue;
      }
      xin -= 0.5;
      yin -= 0.5;
      const xf = Math.floor(xin);
      const yf = Math.floor(yin);
      const dx = xin - xf;
      const dy = yin - yf;
      const r0 = (yf < 0 ? 0 : yf < h ? yf : h - 1) * w;
      const xa = xf < 0 ? 0 : xf < w ? xf : w - 1;
      const xb = xf + 1 < 0 ? 0 : xf + 1 < w ? xf + 1 : w - 1;
      // Pillow reads the second row only when it exists; otherwise it repeats the first.
      const hasR1 = yf + 1 >= 0 && yf + 1 < h;
      const r1 = (yf + 1) * w;
      for (let k = 0; k < c; k++) {
        const p = data[(r0 + xa) * c + k];
        const v1 = p + (data[(r0 + xb) * c + k] - p) * dx;
        let v2 = v1;
        if (hasR1) {
          const q = data[(r1 + xa) * c + k];
          v2 = q + (data[(r1 + xb) * c + k] - q) * dx;
        }
        // (UINT8) conversion in C truncates; so does a Uint8Array store.
        out[o + k] = v1 + (v2 - v1) * dy;
      }
    }
  }
  return { data: out, width: w, height: h, channels: c };
}

/** Image.rotate(angle, NEAREST, fillcolor=fill) for a one-channel mask. */
export function rotateNearest(mask: DecodedImage, angle: number, fill: number): DecodedImage {
  const { data, width: w, height: h, channels: c } = mask;
  if (c !== 1) throw new RangeError(`Expected a 1-channel mask for rotate but received ${c}`);
  if (pyMod(angle, 360) === 0) return copyOf(mask);
  // Pillow uses the fixed-point path when every corner maps within ±32768; images this
  // large or larger would take its float path, which we do not reproduce.
  if (w > 16384 || h > 16384) {
    throw new RangeError(`Expected a mask of at most 16384 px a side but received ${w}x${h}`);
  }
  const m = rotationMatrix(angle, w, h);
  const fix = (v: number): number => Math.floor(v * 65536 + 0.5);
  const a0 = fix(m[0]);
  const a1 = fix(m[1]);
  const a3 = fix(m[3]);
  const a4 = fix(m[4]);
  let rowX = fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
  let rowY = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
  const out = new Uint8Array(w * h).fill(fill);
  for (let y = 0; y < h; y++) {
    let xx = rowX;
    let yy = rowY;
    for (let x = 0; x < w; x++) {
      const xin = xx >> 16;
      if (xin >= 0 && xin < w) {
        const yin = yy >> 16;
        if (yin >= 0 && yin < h) out[y * w + x] = data[yin * w + xin];
      }
      xx += a0;
      yy += a3;
    }
    rowX += a1;
    rowY += a4;
  }
  return { data: out, width: w, height: h, channels: 1 };
}
