// The float stage: ToTensor → Lighting → clamp → Normalize fused into one pass that
// writes CHW float32 straight into the batch buffer (no intermediate tensors).
// float32 rounding happens once at the store; torch rounds after each op, so values can
// differ by an ulp or two (< 1e-6 relative), far below anything training can see.
import type { DecodedImage } from "../image.js";

export interface FloatStage {
  /** Per-channel offset added after /255 (PCA lighting), or null. */
  offset: number[] | null;
  clamp: boolean;
  mean: number[];
  std: number[];
}

export const NO_NORMALIZE = { mean: [0, 0, 0], std: [1, 1, 1] };

/** Writes img (HWC uint8) as normalised CHW float32 into out[offset...]. */
export function toNormalizedChw(
  img: DecodedImage,
  stage: FloatStage,
  out: Float32Array,
  offset: number,
): void {
  const { data, width, height, channels: c } = img;
  const plane = width * height;
  for (let k = 0; k < c; k++) {
    const add = stage.offset ? stage.offset[k] : 0;
    const mean = stage.mean[k];
    const inv = 1 / stage.std[k];
    const clamp = stage.clamp;
    const o = offset + k * plane;
    for (let p = 0, i = k; p < plane; p++, i += c) {
      let v = data[i] / 255 + add;
      if (clamp) v = v < 0 ? 0 : Math.min(v, 1);
      out[o + p] = (v - mean) * inv;
    }
  }
}

/** Copies img (HWC uint8) into out[offset...] as HWC or CHW uint8. */
export function toUint8(
  img: DecodedImage,
  layout: "hwc" | "chw",
  out: Uint8Array,
  offset: number,
): void {
  if (layout === "hwc") {
    out.set(img.data, offset);
    return;
  }
  const { data, width, height, channels: c } = img;
  const plane = width * height;
  for (let k = 0; k < c; k++) {
    const o = offset + k * plane;
    for (let p = 0, i = k; p < plane; p++, i += c) out[o + p] = data[i];
  }
}
