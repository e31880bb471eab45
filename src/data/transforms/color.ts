// Photometric transforms: torchvision 0.14's ColorJitter on PIL images (Pillow's
// ImageEnhance arithmetic reproduced exactly) and the AlexNet PCA lighting of
// docs/method.md#augmentation.
import type { DecodedImage } from "../image.js";
import type { Rng } from "../rng.js";

const f32 = Math.fround;

/**
 * Pillow's ImagingBlend(im1, im2, alpha) = im1 + alpha·(im2 − im1), in float32 and
 * truncated to uint8 (clipped only when extrapolating, alpha outside [0, 1]).
 * ImageEnhance.X(img).enhance(f) is blend(degenerate, img, f).
 */
export function blend(d: number, v: number, a: number, extrapolate: boolean): number {
  let r = f32(d + f32(a * (v - d)));
  if (extrapolate) r = r <= 0 ? 0 : Math.min(r, 255);
  return Math.trunc(r);
}

/** blend(d, v) for all 256 values v and a fixed degenerate value d. */
export function blendLut(d: number, alpha: number, lut = new Uint8Array(256)): Uint8Array {
  const a = f32(alpha);
  const ex = a < 0 || a > 1;
  for (let v = 0; v < 256; v++) lut[v] = blend(d, v, a, ex);
  return lut;
}

function applyLut(data: Uint8Array, lut: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = lut[data[i]];
}

/** PIL "RGB" → "L": ITU-R 601-2 luma in 16-bit fixed point, rounded. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** F.adjust_brightness: blend with black. In place. */
export function adjustBrightness(img: DecodedImage, factor: number): void {
  applyLut(img.data, blendLut(0, factor));
}

/** F.adjust_contrast: blend with the mean grey level (rounded to an integer). In place. */
export function adjustContrast(img: DecodedImage, factor: number): void {
  const d = img.data;
  let sum = 0;
  if (img.channels === 3)
    for (let i = 0; i < d.length; i += 3) sum += luma(d[i], d[i + 1], d[i + 2]);
  else for (let i = 0; i < d.length; i++) sum += d[i];
  const mean = Math.trunc(sum / (img.width * img.height) + 0.5);
  applyLut(d, blendLut(mean, factor));
}

/** F.adjust_saturation: blend with the greyscale image. In place. */
export function adjustSaturation(img: DecodedImage, factor: number): void {
  if (img.channels !== 3) return;
  const a = f32(factor);
  const ex = a < 0 || a > 1;
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    const g = luma(d[i], d[i + 1], d[i + 2]);
    d[i] = blend(g, d[i], a, ex);
    d[i + 1] = blend(g, d[i + 1], a, ex);
    d[i + 2] = blend(g, d[i + 2], a, ex);
  }
}

/**
 * F.adjust_hue on PIL: to Pillow's 8-bit HSV, add uint8(factor·255) to H with
 * wrap-around, back to RGB. Pillow's rgb2hsv/hsv2rgb (Convert.c) are reproduced.
 */
export function adjustHue(img: DecodedImage, factor: number): void {
  if (img.channels !== 3 || factor === 0) return;
  // numpy's uint8 cast of the (possibly negative) shift wraps modulo 256.
  const shift = ((Math.trunc(factor * 255) % 256) + 256) % 256;
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i];
    const g = d[i + 1];
    const b = d[i + 2];
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    if (maxc === minc) continue; // grey: s = 0, hue shift has no effect
    const cr = f32(maxc - minc);
    const s = f32(cr / maxc);
    const rc = f32((maxc - r) / cr);
    const gc = f32((maxc - g) / cr);
    const bc = f32((maxc - b) / cr);
    let h: number;
    if (r === maxc) h = f32(bc - gc);
    else if (g === maxc) h = f32(2.0 + rc - bc);
    else h = f32(4.0 + gc - rc);
    h = f32((h / 6.0 + 1.0) % 1.0);
    let uh = clip8(Math.trunc(h * 255.0));
    const us = clip8(Math.trunc(s * 255.0));
    uh = (uh + shift) & 255;
    hsvToRgb(uh, us, maxc, d, i);
  }
}

function clip8(v: number): number {
  return v < 0 ? 0 : Math.min(v, 255);
}

function hsvToRgb(h: number, s: number, v: number, out: Uint8Array, o: number): void {
  if (s === 0) {
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
    return;
  }
  const i = Math.floor((h * 6.0) / 255.0);
  const f = f32((h * 6.0) / 255.0 - i);
  const fs = f32(s / 255.0);
  // C's round(): halves away from zero; all values here are non-negative.
  const p = clip8(Math.round(v * (1.0 - fs)));
  const q = clip8(Math.round(v * (1.0 - fs * f)));
  const t = clip8(Math.round(v * (1.0 - fs * (1.0 - f))));
  const rgb = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6];
  out[o] = rgb[0];
  out[o + 1] = rgb[1];
  out[o + 2] = rgb[2];
}

export interface JitterOptions {
  brightness?: number;
  contrast?: number;
  saturation?: number;
  hue?: number;
}

/** Drawn ColorJitter parameters: the order of the four ops and their factors. */
export interface JitterParams {
  order: number[]; // permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

/** ColorJitter.get_params: a random order, then each enabled factor uniformly. */
export function colorJitterParams(rng: Rng, o: JitterOptions): JitterParams {
  const order = Array.from(rng.permutation(4));
  const range = (v: number | undefined, center: number): number | null =>
    v ? rng.uniform(Math.max(0, center - v), center + v) : null;
  const brightness = range(o.brightness, 1);
  const contrast = range(o.contrast, 1);
  const saturation = range(o.saturation, 1);
  const hue = o.hue ? rng.uniform(-o.hue, o.hue) : null;
  if (o.hue !== undefined && (o.hue < 0 || o.hue > 0.5)) {
    throw new RangeError(`ColorJitter hue must be in [0, 0.5], got ${o.hue}`);
  }
  return { order, brightness, contrast, saturation, hue };
}

/** Applies drawn jitter parameters in their order, in place. */
export function colorJitter(img: DecodedImage, p: JitterParams): void {
  for (const op of p.order) {
    if (op === 0 && p.brightness !== null) adjustBrightness(img, p.brightness);
    else if (op === 1 && p.contrast !== null) adjustContrast(img, p.contrast);
    else if (op === 2 && p.saturation !== null) adjustSaturation(img, p.saturation);
    else if (op === 3 && p.hue !== null) adjustHue(img, p.hue);
  }
}

/** AlexNet PCA lighting constants (ImageNet RGB, docs/method.md#augmentation). */
export const IMAGENET_PCA = {
  eigval: [0.2175, 0.0188, 0.0045],
  eigvec: [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.814],
    [-0.5836, -0.6948, 0.4203],
  ],
};

/** α ~ N(0, std²) per channel. */
export function lightingParams(rng: Rng, alphaStd: number): number[] {
  return [rng.normal(0, alphaStd), rng.normal(0, alphaStd), rng.normal(0, alphaStd)];
}

/** The per-channel offset rgb_i = Σ_j eigvec[i][j]·α_j·eigval[j] added to the [0,1] image. */
export function lightingOffset(alpha: number[], pca = IMAGENET_PCA): number[] {
  return pca.eigvec.map((row) => row.reduce((s, e, j) => s + e * alpha[j] * pca.eigval[j], 0));
}
