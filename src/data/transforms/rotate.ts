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
import { assertCovers, clipWin, type Tile, untile, type Win, wholeTile, wholeWin } from "./tile.js";

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

/**
 * Window `win` of Image.rotate(angle, BILINEAR, fillcolor=fill), reading the source from
 * tile `src` (which must hold every pixel the window samples: see rotateSourceWin).
 */
export function rotateBilinearTile(src: Tile, angle: number, fill: number[], win: Win): Tile {
  const { data, channels: c, fullW: w, fullH: h } = src;
  if (fill.length !== c) {
    throw new RangeError(`Expected ${c} fill values for rotate but received ${fill.length}`);
  }
  const { x0, y0, x1, y1 } = clipWin(win, w, h);
  assertCovers(src, rotateSourceWin(angle, w, h, { x0, y0, x1, y1 }), "rotate");
  const tw = x1 - x0;
  const [a0, a1, a2, a3, a4, a5] = rotationMatrix(angle, w, h);
  const sw = src.width;
  const sx0 = src.x0;
  const sy0 = src.y0;
  const out = new Uint8Array(tw * (y1 - y0) * c);
  for (let y = y0; y < y1; y++) {
    const yc = y + 0.5;
    for (let x = x0; x < x1; x++) {
      const xc = x + 0.5;
      let xin = a0 * xc + a1 * yc + a2;
      let yin = a3 * xc + a4 * yc + a5;
      const o = ((y - y0) * tw + (x - x0)) * c;
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
      // Clamped to the image (XCLIP/YCLIP), then made local to the tile.
      const r0 = ((yf < 0 ? 0 : yf < h ? yf : h - 1) - sy0) * sw - sx0;
      const xa = xf < 0 ? 0 : xf < w ? xf : w - 1;
      const xb = xf + 1 < 0 ? 0 : xf + 1 < w ? xf + 1 : w - 1;
      // Pillow reads the second row only when it exists; otherwise it repeats the first.
      const hasR1 = yf + 1 >= 0 && yf + 1 < h;
      const r1 = (yf + 1 - sy0) * sw - sx0;
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
  return { data: out, width: tw, height: y1 - y0, channels: c, x0, y0, fullW: w, fullH: h };
}

/** Window `win` of Image.rotate(angle, NEAREST, fillcolor=fill) of a one-channel mask tile. */
export function rotateNearestTile(src: Tile, angle: number, fill: number, win: Win): Tile {
  const { data, channels: c, fullW: w, fullH: h } = src;
  if (c !== 1) throw new RangeError(`Expected a 1-channel mask for rotate but received ${c}`);
  // Pillow uses the fixed-point path when every corner maps within ±32768; images this
  // large or larger would take its float path, which we do not reproduce.
  if (w > 16384 || h > 16384) {
    throw new RangeError(`Expected a mask of at most 16384 px a side but received ${w}x${h}`);
  }
  const { x0, y0, x1, y1 } = clipWin(win, w, h);
  assertCovers(src, rotateSourceWin(angle, w, h, { x0, y0, x1, y1 }), "rotate");
  const tw = x1 - x0;
  const m = rotationMatrix(angle, w, h);
  const fix = (v: number): number => Math.floor(v * 65536 + 0.5);
  const a0 = fix(m[0]);
  const a1 = fix(m[1]);
  const a3 = fix(m[3]);
  const a4 = fix(m[4]);
  // Pillow steps these by integer additions from (0, 0); the sums are exact, so
  // starting at (x0, y0) directly gives the same values.
  const b2 = fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
  const b5 = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
  const out = new Uint8Array(tw * (y1 - y0)).fill(fill);
  for (let y = y0; y < y1; y++) {
    let xx = b2 + y * a1 + x0 * a0;
    let yy = b5 + y * a4 + x0 * a3;
    const o = (y - y0) * tw - x0;
    for (let x = x0; x < x1; x++) {
      const xin = xx >> 16;
      if (xin >= 0 && xin < w) {
        const yin = yy >> 16;
        if (yin >= 0 && yin < h) out[o + x] = data[(yin - src.y0) * src.width + xin - src.x0];
      }
      xx += a0;
      yy += a3;
    }
  }
  return { data: out, width: tw, height: y1 - y0, channels: 1, x0, y0, fullW: w, fullH: h };
}

/**
 * The source rectangle that window `win` of a rotation reads (bilinear neighbours and
 * nearest picks alike), clipped to the image, with a pixel of margin for rounding.
 */
export function rotateSourceWin(angle: number, w: number, h: number, win: Win): Win {
  if (win.x1 <= win.x0 || win.y1 <= win.y0) return { ...win, x1: win.x0, y1: win.y0 };
  const [a0, a1, a2, a3, a4, a5] = rotationMatrix(angle, w, h);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  // An affine map takes the extremes at the corners of the window's pixel centres.
  for (const xc of [win.x0 + 0.5, win.x1 - 0.5]) {
    for (const yc of [win.y0 + 0.5, win.y1 - 0.5]) {
      const sx = a0 * xc + a1 * yc + a2;
      const sy = a3 * xc + a4 * yc + a5;
      minX = Math.min(minX, sx);
      maxX = Math.max(maxX, sx);
      minY = Math.min(minY, sy);
      maxY = Math.max(maxY, sy);
    }
  }
  const r = {
    x0: Math.floor(minX - 0.5) - 1,
    y0: Math.floor(minY - 0.5) - 1,
    x1: Math.floor(maxX - 0.5) + 3,
    y1: Math.floor(maxY - 0.5) + 3,
  };
  return clipWin(r, w, h);
}

/** Image.rotate(angle, BILINEAR, fillcolor=fill) for an 8-bit image with any channel count. */
export function rotateBilinear(img: DecodedImage, angle: number, fill: number[]): DecodedImage {
  return untile(rotateBilinearTile(wholeTile(img), angle, fill, wholeWin(img.width, img.height)));
}

/** Image.rotate(angle, NEAREST, fillcolor=fill) for a one-channel mask. */
export function rotateNearest(mask: DecodedImage, angle: number, fill: number): DecodedImage {
  return untile(rotateNearestTile(wholeTile(mask), angle, fill, wholeWin(mask.width, mask.height)));
}
