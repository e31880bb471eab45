// A transform pipeline as plain data (so it can be posted to loader workers), and the
// function that runs it on one sample with that sample's generator.
//
// Steps run in order; uint8 steps (crop, resize, flip, jitter) come first, then the
// float steps (toTensor, lighting, normalize), which are fused into one pass. Random
// parameters are drawn in step order from the sample's Rng, so the result depends only
// on (seed, epoch, index).
import type { DecodedImage, ImageSource } from "../image.js";
import type { Rng } from "../rng.js";
import { colorJitterParams, lightingOffset, lightingParams } from "./color.js";
import { colorJitterLazy, type LazyPixels, lazy, materialize } from "./fused.js";
import { centerCrop, randomResizedCropParams, resizedCrop, resizeShorter } from "./geometry.js";
import type { FloatStage } from "./tensor.js";

/**
 * One step of an image transform pipeline, as data (torchvision's transforms by name and
 * parameters).
 */
export type TransformStep =
  | { op: "randomResizedCrop"; size: number; scale?: [number, number]; ratio?: [number, number] }
  | { op: "resize"; size: number }
  | { op: "centerCrop"; size: number }
  | { op: "hflip"; p?: number }
  | { op: "colorJitter"; brightness?: number; contrast?: number; saturation?: number; hue?: number }
  | { op: "toTensor" }
  | { op: "lighting"; alphaStd: number; clamp?: boolean }
  | { op: "normalize"; mean: number[]; std: number[] };

/** ImageNet's per-channel RGB mean (torchvision's normalisation). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
/** ImageNet's per-channel RGB standard deviation (torchvision's normalisation). */
export const IMAGENET_STD = [0.229, 0.224, 0.225];
export const CIFAR100_MEAN = [0.5071, 0.4867, 0.4408];
export const CIFAR100_STD = [0.2675, 0.2565, 0.2761];

/** docs/method.md#augmentation: the augmentation of the distillation and SVD passes. */
export function kdepTrainTransform(size = 224): TransformStep[] {
  return [
    { op: "randomResizedCrop", size, scale: [0.08, 1], ratio: [3 / 4, 4 / 3] },
    { op: "hflip", p: 0.5 },
    { op: "colorJitter", brightness: 0.1, contrast: 0.1, saturation: 0.1 },
    { op: "toTensor" },
    { op: "lighting", alphaStd: 0.05, clamp: true },
    { op: "normalize", mean: IMAGENET_MEAN, std: IMAGENET_STD },
  ];
}

/** docs/method.md#classification-transfer: transfer training, RandomResizedCrop(224) + flip. */
export function transferTrainTransform(mean = [0, 0, 0], std = [1, 1, 1]): TransformStep[] {
  return [
    { op: "randomResizedCrop", size: 224 },
    { op: "hflip", p: 0.5 },
    { op: "toTensor" },
    { op: "normalize", mean, std },
  ];
}

/** docs/method.md#classification-transfer: transfer evaluation, Resize(256) → CenterCrop(224). */
export function transferTestTransform(mean = [0, 0, 0], std = [1, 1, 1]): TransformStep[] {
  return [
    { op: "resize", size: 256 },
    { op: "centerCrop", size: 224 },
    { op: "toTensor" },
    { op: "normalize", mean, std },
  ];
}

/** Splits a pipeline into its uint8 part and its fused float part (null: uint8 output). */
export function splitPipeline(steps: TransformStep[]): {
  pixel: TransformStep[];
  float: TransformStep[] | null;
} {
  const t = steps.findIndex((s) => s.op === "toTensor");
  if (t < 0) {
    const bad = steps.find((s) => s.op === "lighting" || s.op === "normalize");
    if (bad) throw new Error(`transform "${bad.op}" needs a "toTensor" step before it`);
    return { pixel: steps, float: null };
  }
  const pixel = steps.slice(0, t);
  const float = steps.slice(t + 1);
  const bad = pixel.find((s) => s.op === "lighting" || s.op === "normalize");
  if (bad) throw new Error(`transform "${bad.op}" must come after "toTensor"`);
  const late = float.find((s) => s.op !== "lighting" && s.op !== "normalize");
  if (late) throw new Error(`transform "${late.op}" must come before "toTensor"`);
  return { pixel, float };
}

/**
 * Runs the uint8 steps. May modify `img` in place. Colour tables and a flip may be left
 * pending (see fused.ts): finish with `materialize` or `writeNormalizedChw`.
 *
 * Given an ImageSource, a leading RandomResizedCrop decodes only its crop box.
 */
export function applyPixelSteps(
  img: DecodedImage | ImageSource,
  steps: TransformStep[],
  rng: Rng,
): LazyPixels {
  let rest = steps;
  let p: LazyPixels;
  if ("decode" in img) {
    const first = steps[0];
    if (first?.op === "randomResizedCrop") {
      const box = randomResizedCropParams(rng, img.width, img.height, first);
      const region = img.decode(box);
      const inRegion = { ...box, left: box.left - region.left, top: box.top - region.top };
      p = lazy(resizedCrop(region, inRegion, first.size, first.size));
      rest = steps.slice(1);
    } else {
      p = lazy(img.decode());
    }
  } else {
    p = lazy(img);
  }
  for (const s of rest) {
    switch (s.op) {
      case "randomResizedCrop": {
        const cur = materialize(p);
        const box = randomResizedCropParams(rng, cur.width, cur.height, s);
        p.img = resizedCrop(cur, box, s.size, s.size);
        break;
      }
      case "resize":
        p.img = resizeShorter(materialize(p), s.size);
        break;
      case "centerCrop":
        p.img = centerCrop(materialize(p), s.size, s.size);
        break;
      case "hflip":
        // torchvision: `if torch.rand(1) < p`.
        if (rng.random() < (s.p ?? 0.5)) p.flip = !p.flip;
        break;
      case "colorJitter":
        colorJitterLazy(p, colorJitterParams(rng, s));
        break;
      default:
        throw new Error(`transform "${s.op}" is not a pixel transform`);
    }
  }
  return p;
}

/** Draws the float-stage parameters (lighting α) and folds the steps into one pass. */
export function floatStage(steps: TransformStep[], rng: Rng): FloatStage {
  const stage: FloatStage = { offset: null, clamp: false, mean: [0, 0, 0], std: [1, 1, 1] };
  for (const s of steps) {
    if (s.op === "lighting") {
      if (stage.offset || s.alphaStd === 0) continue;
      stage.offset = lightingOffset(lightingParams(rng, s.alphaStd));
      stage.clamp = s.clamp ?? true;
    } else if (s.op === "normalize") {
      stage.mean = s.mean;
      stage.std = s.std;
    }
  }
  return stage;
}

/** Output height and width of a pipeline, or null when it depends on the image. */
export function outputSize(steps: TransformStep[]): [number, number] | null {
  let size: [number, number] | null = null;
  for (const s of steps) {
    if (s.op === "randomResizedCrop" || s.op === "centerCrop") size = [s.size, s.size];
    else if (s.op === "resize") size = null;
  }
  return size;
}
