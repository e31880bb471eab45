// The fast path of the augmentation: the same arithmetic as color.ts / geometry.ts /
// tensor.ts, with fewer passes over the pixels (each pass over a 224² image costs
// ~0.3 ms on a small CPU, which is what separates us from torchvision's C code).
//
// - Per-value colour ops (brightness, contrast's blend) are composed into 256-entry
//   tables instead of being applied: one table before a pending saturation, one after.
// - Saturation (per pixel: a blend with the pixel's own luma) stays pending too, and is
//   computed in the final write, unless a later contrast needs the mean of its result;
//   then one pass applies everything pending and sums the luma at the same time.
// - A horizontal flip is deferred to the final write when nothing after it depends on
//   position (colour ops do not).
// - The final write maps (post table → /255 → lighting → clamp → normalise) through one
//   256-entry float32 table per channel and writes CHW directly into the batch.
// So the KDEP recipe reads the resized image at most twice (contrast's mean, final
// write) and writes it once. The per-pixel loops of RGB images run in the kdep_image
// addon (native/src/color.cc) when it is built, here otherwise; the decisions are made
// here either way. Results are bit-identical to applying the ops one by one (tested).
import type { DecodedImage } from "../image.js";
import { imageAddon } from "../imageAddon.js";
import { adjustHue, blend, blendLut, type JitterParams, luma } from "./color.js";
import { hflipInPlace } from "./geometry.js";
import type { FloatStage } from "./tensor.js";

const f32 = Math.fround;

export interface LazyPixels {
  img: DecodedImage;
  /** Pending per-value table applied first, not yet applied to img.data; null = identity. */
  lut: Uint8Array | null;
  /** Pending saturation factor, applied after `lut`; null = none. */
  sat: number | null;
  /** Pending per-value table applied after the saturation; null = identity. */
  post: Uint8Array | null;
  /** Pending horizontal flip. */
  flip: boolean;
}

export function lazy(img: DecodedImage): LazyPixels {
  return { img, lut: null, sat: null, post: null, flip: false };
}

/** Applies everything pending; afterwards img is the true image. */
export function materialize(p: LazyPixels): DecodedImage {
  applyColour(p, false);
  if (p.flip) {
    hflipInPlace(p.img);
    p.flip = false;
  }
  return p.img;
}

/**
 * Applies the pending tables and saturation to img.data in one pass; with `wantMean`,
 * returns the mean luma of the result rounded as ImageEnhance.Contrast does (else 0).
 */
function applyColour(p: LazyPixels, wantMean: boolean): number {
  const { img } = p;
  const d = img.data;
  let sum = 0;
  if (imageAddon && img.channels === 3) {
    if (p.lut || p.sat !== null || p.post || wantMean)
      sum = imageAddon.colorApply(d, p.lut, p.sat, p.post);
  } else if (p.sat === null) {
    // Only tables pending: lut and post compose into one.
    const lut = p.post ? (p.lut ? composeInto(p.lut.slice(), p.post) : p.post) : p.lut;
    if (lut) for (let i = 0; i < d.length; i++) d[i] = lut[d[i]];
    if (wantMean && img.channels === 3)
      for (let i = 0; i < d.length; i += 3) sum += luma(d[i], d[i + 1], d[i + 2]);
  } else {
    const a = f32(p.sat);
    const ex = a < 0 || a > 1;
    const pre = p.lut ?? IDENTITY;
    const post = p.post ?? IDENTITY;
    for (let i = 0; i < d.length; i += 3) {
      const r = pre[d[i]];
      const g = pre[d[i + 1]];
      const b = pre[d[i + 2]];
      const l = luma(r, g, b);
      const r2 = post[blend(l, r, a, ex)];
      const g2 = post[blend(l, g, a, ex)];
      const b2 = post[blend(l, b, a, ex)];
      d[i] = r2;
      d[i + 1] = g2;
      d[i + 2] = b2;
      sum += luma(r2, g2, b2);
    }
  }
  p.lut = null;
  p.sat = null;
  p.post = null;
  return wantMean ? Math.trunc(sum / (img.width * img.height) + 0.5) : 0;
}

/** first ← next ∘ first, in place. */
function composeInto(first: Uint8Array, next: Uint8Array): Uint8Array {
  for (let v = 0; v < 256; v++) first[v] = next[first[v]];
  return first;
}

/** Adds a per-value table after everything pending. */
function compose(p: LazyPixels, next: Uint8Array): void {
  if (p.sat !== null) p.post = p.post ? composeInto(p.post, next) : next;
  else p.lut = p.lut ? composeInto(p.lut, next) : next;
}

/** ColorJitter with drawn parameters, lazily. */
export function colorJitterLazy(p: LazyPixels, j: JitterParams): void {
  if (p.img.channels !== 3) throw new Error("colorJitter expects an RGB image");
  for (const op of j.order) {
    if (op === 0 && j.brightness !== null) compose(p, blendLut(0, j.brightness));
    else if (op === 1 && j.contrast !== null) compose(p, blendLut(meanLuma(p), j.contrast));
    else if (op === 2 && j.saturation !== null) {
      if (p.sat !== null) applyColour(p, false);
      p.sat = j.saturation;
    } else if (op === 3 && j.hue !== null) {
      applyColour(p, false); // hue is per pixel; a pending flip can stay pending
      adjustHue(p.img, j.hue);
    }
  }
}

/** Mean luma of the image with everything pending applied (contrast's grey level). */
function meanLuma(p: LazyPixels): number {
  // With a saturation pending, its result is needed anyway: apply it while summing.
  if (p.sat !== null) return applyColour(p, true);
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

const IDENTITY = Uint8Array.from({ length: 256 }, (_, i) => i);
const allTables = new Float32Array(768);
const tables = [0, 1, 2].map((k) => allTables.subarray(256 * k, 256 * (k + 1)));

/** Final write: everything pending + float stage, CHW float32 into out[offset...]. */
export function writeNormalizedChw(
  p: LazyPixels,
  stage: FloatStage,
  out: Float32Array,
  offset: number,
): void {
  if (p.img.channels !== 3) applyColour(p, false);
  const { data, width, height, channels: c } = p.img;
  const plane = width * height;
  // The per-value float map of each channel, with the tables that follow any pending
  // saturation folded in; same expression as toNormalizedChw, once per possible value.
  const last = p.sat !== null ? p.post : p.lut;
  for (let k = 0; k < c; k++) {
    const add = stage.offset ? stage.offset[k] : 0;
    const mean = stage.mean[k];
    const inv = 1 / stage.std[k];
    const t = tables[k];
    for (let v = 0; v < 256; v++) {
      let x = (last ? last[v] : v) / 255 + add;
      if (stage.clamp) x = x < 0 ? 0 : Math.min(x, 1);
      t[v] = (x - mean) * inv;
    }
  }
  if (c !== 3) {
    const t = tables[0];
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        out[offset + row + x] = t[data[row + (p.flip ? width - 1 - x : x)]];
      }
    }
    return;
  }
  if (imageAddon) {
    const pre = p.sat !== null ? p.lut : null;
    imageAddon.writeChw(data, width, height, pre, p.sat, allTables, p.flip, out, offset);
    return;
  }
  const [t0, t1, t2] = tables;
  const o0 = offset;
  const o1 = offset + plane;
  const o2 = offset + 2 * plane;
  const step = p.flip ? -3 : 3;
  if (p.sat === null) {
    for (let y = 0; y < height; y++) {
      const row = y * width;
      let i = (p.flip ? row + width - 1 : row) * 3;
      for (let x = row; x < row + width; x++, i += step) {
        out[o0 + x] = t0[data[i]];
        out[o1 + x] = t1[data[i + 1]];
        out[o2 + x] = t2[data[i + 2]];
      }
    }
    return;
  }
  const a = f32(p.sat);
  const ex = a < 0 || a > 1;
  const pre = p.lut ?? IDENTITY;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let i = (p.flip ? row + width - 1 : row) * 3;
    for (let x = row; x < row + width; x++, i += step) {
      const r = pre[data[i]];
      const g = pre[data[i + 1]];
      const b = pre[data[i + 2]];
      const l = luma(r, g, b);
      out[o0 + x] = t0[blend(l, r, a, ex)];
      out[o1 + x] = t1[blend(l, g, a, ex)];
      out[o2 + x] = t2[blend(l, b, a, ex)];
    }
  }
}
