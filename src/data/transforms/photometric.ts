// PhotoMetricDistortion, the colour augmentation KDEP adds to the segmentation training
// pipeline (after the Gaussian blur, before the flip), with mmsegmentation's parameters:
//
//   brightness: add β ~ U(−32, 32)                       (p 0.5)
//   mode coin:  contrast first (1) or last (0)
//   contrast:   multiply by α ~ U(0.5, 1.5)              (p 0.5; first or last)
//   saturation: BGR→HSV, S ·= α ~ U(0.5, 1.5), HSV→BGR   (p 0.5)
//   hue:        BGR→HSV, H = (H + δ) mod 180, δ ∈ [−18, 17] (numpy randint), HSV→BGR (p 0.5)
//
// Every step ends on uint8: float32 arithmetic, clip to [0, 255], truncate. The HSV
// conversions are OpenCV's 8-bit ones (H in [0, 180)), reproduced bit for bit.
//
// The reference feeds these conversions its RGB array under the BGR name, so the
// channel it treats as blue is our red; we do the same (the hue turns the same way it
// does there). It runs on cv2's float32 images, and a step that sees a float image
// (brightness and a leading contrast both skipped) uses cv2's float HSV, where
// S ∈ [0, 1] so the uint8 saturation rounds it to 0 or 1. We stay on uint8 throughout
// (as mmsegmentation does), which is what the reference does whenever brightness ran.
import type { Rng } from "../rng.js";

export interface PhotoMetricOptions {
  brightnessDelta?: number;
  contrastRange?: [number, number];
  saturationRange?: [number, number];
  hueDelta?: number;
}

/** The drawn values of one sample; null: that step is skipped. */
export interface PhotoMetricParams {
  brightness: number | null;
  /** The reference's mode 1: contrast before the HSV steps, else after them. */
  contrastFirst: boolean;
  contrast: number | null;
  saturation: number | null;
  /** Integer hue shift in OpenCV's 8-bit units (2° each). */
  hue: number | null;
}

/** Draws in the reference's order: brightness, mode, [contrast], saturation, hue, [contrast]. */
export function drawPhotoMetric(rng: Rng, o: PhotoMetricOptions = {}): PhotoMetricParams {
  const bd = o.brightnessDelta ?? 32;
  const [cl, ch] = o.contrastRange ?? [0.5, 1.5];
  const [sl, sh] = o.saturationRange ?? [0.5, 1.5];
  const hd = o.hueDelta ?? 18;
  const coin = () => rng.random() < 0.5;
  const brightness = coin() ? rng.uniform(-bd, bd) : null;
  const contrastFirst = coin();
  let contrast = contrastFirst && coin() ? rng.uniform(cl, ch) : null;
  const saturation = coin() ? rng.uniform(sl, sh) : null;
  const hue = coin() ? rng.randint(-hd, hd) : null;
  if (!contrastFirst && coin()) contrast = rng.uniform(cl, ch);
  return { brightness, contrastFirst, contrast, saturation, hue };
}

/** uint8 → uint8 table of clip(float32(v·α + β), 0, 255) truncated, as numpy computes it. */
function affineLut(alpha: number, beta: number): Uint8Array {
  const a = Math.fround(alpha);
  const b = Math.fround(beta);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const x = Math.fround(Math.fround(v * a) + b);
    lut[v] = x <= 0 ? 0 : x >= 255 ? 255 : Math.trunc(x);
  }
  return lut;
}

/** Where the pixels sit: rows of `width` from column `x0` of a `fullW`-wide image. */
export interface RowSpan {
  width: number;
  x0: number;
  fullW: number;
}

/**
 * Applies one drawn distortion to packed 3-channel uint8 pixels, in place. `span` matters
 * only to OpenCV's vector/scalar split in HSV→BGR (a whole image: x0 0, fullW = width).
 */
export function photoMetricInPlace(data: Uint8Array, p: PhotoMetricParams, span: RowSpan): void {
  if (data.length % 3 !== 0) {
    throw new RangeError(`photometric distortion needs 3-channel pixels, got ${data.length} bytes`);
  }
  if (p.brightness !== null) mapAll(data, affineLut(1, p.brightness));
  if (p.contrastFirst && p.contrast !== null) mapAll(data, affineLut(p.contrast, 0));
  if (p.saturation !== null) hsvRoundTrip(data, span, 1, affineLut(p.saturation, 0));
  if (p.hue !== null) {
    const lut = new Uint8Array(256);
    for (let h = 0; h < 256; h++) lut[h] = (((h + p.hue) % 180) + 180) % 180;
    hsvRoundTrip(data, span, 0, lut);
  }
  if (!p.contrastFirst && p.contrast !== null) mapAll(data, affineLut(p.contrast, 0));
}

function mapAll(data: Uint8Array, lut: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = lut[data[i]];
}

// OpenCV's 8-bit tables (hsv_shift 12): round(255·2¹²/i) and round(180·2¹²/(6i)).
const SHIFT = 12;
const HALF = 1 << (SHIFT - 1);
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = roundEven((255 << SHIFT) / i);
  HDIV[i] = roundEven((180 << SHIFT) / (6 * i));
}
const SIMD_LANES = 32;
const HSCALE = Math.fround(6 / 180);
const INV255 = Math.fround(1 / 255);

function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** cvRound of a float32 in [0, 255]: to nearest, ties to even. */
function sat8(x: number): number {
  if (x <= 0) return 0;
  if (x >= 255) return 255;
  return roundEven(x);
}

/**
 * cv2 BGR2HSV (8-bit), channel `ch` of HSV mapped through `lut`, then HSV2BGR (8-bit).
 * Byte 0 of each pixel plays OpenCV's blue, byte 2 its red.
 */
function hsvRoundTrip(data: Uint8Array, rows: RowSpan, ch: 0 | 1, lut: Uint8Array): void {
  bgrToHsv8(data);
  for (let i = ch; i < data.length; i += 3) data[i] = lut[data[i]];
  hsvToBgr8(data, rows.width, rows.x0, rows.fullW);
}

/** cv2.cvtColor(COLOR_BGR2HSV) on packed uint8 pixels, in place (integer tables). */
export function bgrToHsv8(data: Uint8Array): void {
  for (let i = 0; i < data.length; i += 3) {
    const b = data[i];
    const g = data[i + 1];
    const r = data[i + 2];
    const v = Math.max(b, g, r);
    const diff = v - Math.min(b, g, r);
    let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
    h = (h * HDIV[diff] + HALF) >> SHIFT;
    data[i] = h < 0 ? h + 180 : h;
    data[i + 1] = (diff * SDIV[v] + HALF) >> SHIFT;
    data[i + 2] = v;
  }
}

/**
 * cv2.cvtColor(COLOR_HSV2BGR) on packed uint8 pixels (H < 180), in place, as OpenCV's
 * AVX2 build computes it: rows of `fullW` pixels (this buffer holds `width` of them from
 * column `x0` on) go 32 at a time through the vector path (fused 1 − s·h, truncation);
 * the last fullW mod 32 pixels of a row take the scalar path (rounding).
 */
export function hsvToBgr8(data: Uint8Array, width = data.length / 3, x0 = 0, fullW = width): void {
  const f = Math.fround;
  const tab = new Float32Array(4);
  const vecEnd = fullW - (fullW % SIMD_LANES);
  for (let i = 0, col = x0; i < data.length; i += 3, col++) {
    if (col === x0 + width) col = x0;
    const vector = col < vecEnd;
    // s and v scaled to [0, 1], float32 throughout, scaled back by 255.
    const v = f(data[i + 2] * INV255);
    const s = f(data[i + 1] * INV255);
    let h = f(data[i] * HSCALE);
    const sector = Math.floor(h);
    h = f(h - sector);
    tab[0] = v;
    tab[1] = v * f(1 - s);
    // s·h of two float32 is exact in a double: one rounding, as a fused multiply-add.
    tab[2] = v * (vector ? f(1 - s * h) : f(1 - f(s * h)));
    tab[3] = v * (vector ? f(1 - s * f(1 - h)) : f(1 - f(s * f(1 - h))));
    const sec = s === 0 ? GREY : SECTORS[sector];
    for (let k = 0; k < 3; k++) {
      const x = f(tab[sec[k]] * 255);
      data[i + k] = vector ? Math.min(Math.trunc(x), 255) : sat8(x);
    }
  }
}

// OpenCV's sector table: which of tab[0..3] is blue, green, red in each 60° sector.
const SECTORS: readonly [number, number, number][] = [
  [1, 3, 0],
  [1, 0, 2],
  [3, 0, 1],
  [0, 2, 1],
  [0, 1, 3],
  [2, 1, 0],
];
/** s = 0: all three channels are v. */
const GREY: readonly [number, number, number] = [0, 0, 0];
