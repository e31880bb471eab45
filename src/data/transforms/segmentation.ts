// Joint image + label-mask transforms of the segmentation transfer
// (docs/method.md#segmentation-transfer, the PSPNet protocol of hszhao/semseg):
//
//   train: RandScale → RandRotate(±10°, p 0.5) → RandomGaussianBlur(p 0.5)
//          → PhotoMetricDistortion (KDEP's addition, photometric.ts)
//          → RandomHorizontalFlip(p 0.5) → Crop(512, 'rand') → ToTensor → Normalize
//   eval:  Crop(512, 'center') → ToTensor → Normalize   (or no crop, batch size 1)
//
// The image is resampled bilinearly and the mask by nearest neighbour, so a mask only
// ever holds its original labels plus the ignore label 255 where padding or rotation
// uncovered the canvas. Padding is the ImageNet mean colour for the image (rounded to
// uint8, see SEG_FILL) and 255 for the mask.
//
// Random choices are drawn from the sample's Rng in the reference's order (scale;
// angle then the rotate coin; blur coin; photometric draws; flip coin; crop row then column), and every
// step is split into "draw parameters" and "apply fixed parameters", so a parity test
// can hand the same parameters to PIL/torchvision. Applying them (segApply.ts) computes
// each step only on the window the final crop keeps.
//
// Where we differ from the reference (which runs cv2 on float32 images): we stay on
// uint8 between steps like torchvision's PIL path, and resampling follows Pillow
// (antialiased bilinear on downscale, rotation about the exact centre (w/2, h/2) where
// cv2 turns about pixel index (w/2, h/2), half a pixel off), not cv2. The uint8 mean
// padding normalises to ~0.005 instead of exactly 0.
import type { Rng } from "../rng.js";
import { roundHalfEven } from "./geometry.js";
import { drawPhotoMetric, type PhotoMetricOptions } from "./photometric.js";
import { IMAGENET_MEAN, IMAGENET_STD, type TransformStep } from "./pipeline.js";
import { applySegOps, type SegOp, type SegPair } from "./segApply.js";

// The op and pair types live with the code that runs them (segApply.ts imports nothing back).
export type { SegOp, SegPair };
export { applySegOps };

export const IGNORE_LABEL = 255;
/** The mean colour as uint8 padding: round(255 · IMAGENET_MEAN) = [124, 116, 104]. */
export const SEG_FILL = IMAGENET_MEAN.map((m) => Math.round(m * 255));
/** docs/method.md#segmentation-transfer: crop size and per-dataset random-scale ranges. */
export const SEG_CROP = 512;
export const SEG_SCALE: Record<"cityscapes" | "voc2012" | "ade20k", [number, number]> = {
  cityscapes: [0.5, 2.0],
  voc2012: [0.5, 1.5],
  ade20k: [0.5, 2.0],
};

export type SegStep =
  | { op: "randScale"; scale: [number, number] }
  | { op: "randRotate"; degrees: [number, number]; p?: number; fill: number[]; ignore?: number }
  | { op: "randBlur"; p?: number; ksize?: number }
  | ({ op: "photoMetric" } & PhotoMetricOptions)
  | { op: "hflip"; p?: number }
  | {
      op: "crop";
      /** [height, width], semseg's order. */
      size: [number, number];
      type: "rand" | "center";
      fill: number[];
      ignore?: number;
    }
  | { op: "toTensor" }
  | { op: "normalize"; mean: number[]; std: number[] };

/** A joint pipeline; the tag tells the loader to load and batch masks too. */
export interface SegTransform {
  kind: "segmentation";
  steps: SegStep[];
}

export interface SegTrainOptions {
  crop?: number | [number, number];
  scale?: [number, number];
  degrees?: [number, number];
  mean?: number[];
  std?: number[];
  /** KDEP's PhotoMetricDistortion after the blur (default true). */
  photoMetric?: boolean;
}

function cropSize(c: number | [number, number]): [number, number] {
  return typeof c === "number" ? [c, c] : c;
}

/** docs/method.md#segmentation-transfer, training. `scale` per dataset: SEG_SCALE. */
export function segTrainTransform(o: SegTrainOptions = {}): SegTransform {
  return {
    kind: "segmentation",
    steps: [
      { op: "randScale", scale: o.scale ?? SEG_SCALE.cityscapes },
      { op: "randRotate", degrees: o.degrees ?? [-10, 10], p: 0.5, fill: SEG_FILL },
      { op: "randBlur", p: 0.5, ksize: 5 },
      ...(o.photoMetric === false ? [] : [{ op: "photoMetric" } as const]),
      { op: "hflip", p: 0.5 },
      { op: "crop", size: cropSize(o.crop ?? SEG_CROP), type: "rand", fill: SEG_FILL },
      { op: "toTensor" },
      { op: "normalize", mean: o.mean ?? IMAGENET_MEAN, std: o.std ?? IMAGENET_STD },
    ],
  };
}

/**
 * Evaluation: centre crop (padded) to `crop`, as semseg validates during training; with
 * `crop: null` the full image (use batch size 1, sizes differ).
 */
export function segEvalTransform(
  o: { crop?: number | [number, number] | null; mean?: number[]; std?: number[] } = {},
): SegTransform {
  const c = o.crop === undefined ? SEG_CROP : o.crop;
  const steps: SegStep[] = [];
  if (c !== null) steps.push({ op: "crop", size: cropSize(c), type: "center", fill: SEG_FILL });
  steps.push({ op: "toTensor" });
  steps.push({ op: "normalize", mean: o.mean ?? IMAGENET_MEAN, std: o.std ?? IMAGENET_STD });
  return { kind: "segmentation", steps };
}

export function isSegTransform(t: TransformStep[] | SegTransform): t is SegTransform {
  return !Array.isArray(t) && t.kind === "segmentation";
}

/** Splits a joint pipeline into its pixel steps and float steps (null: uint8 output). */
export function splitSegTransform(t: SegTransform): {
  pixel: SegStep[];
  float: TransformStep[] | null;
} {
  const known = [
    "randScale",
    "randRotate",
    "randBlur",
    "photoMetric",
    "hflip",
    "crop",
    "toTensor",
    "normalize",
  ];
  for (const s of t.steps) {
    if (!known.includes(s.op)) throw new Error(`unknown segmentation transform "${s.op}"`);
  }
  const i = t.steps.findIndex((s) => s.op === "toTensor");
  const pixel = i < 0 ? t.steps : t.steps.slice(0, i);
  const float: TransformStep[] = [];
  for (const s of i < 0 ? [] : t.steps.slice(i + 1)) {
    if (s.op === "toTensor" || s.op === "normalize") float.push(s);
    else throw new Error(`segmentation transform "${s.op}" must come before "toTensor"`);
  }
  const bad = pixel.find((s) => s.op === "normalize");
  if (bad) throw new Error(`segmentation transform "normalize" needs a "toTensor" step before it`);
  return { pixel, float: i < 0 ? null : float };
}

/**
 * Draws the parameters of `steps` for an image of width×height. Only sizes matter, so
 * the parameters are known before any pixel is touched.
 */
export function segParams(rng: Rng, steps: SegStep[], width: number, height: number): SegOp[] {
  const ops: SegOp[] = [];
  let w = width;
  let h = height;
  for (const s of steps) {
    switch (s.op) {
      case "randScale": {
        const f = rng.uniform(s.scale[0], s.scale[1]);
        // cv2.resize(fx=f, fy=f) makes the output round(w·f) × round(h·f).
        const nw = Math.max(1, roundHalfEven(w * f));
        const nh = Math.max(1, roundHalfEven(h * f));
        if (nw !== w || nh !== h) ops.push({ op: "resize", width: nw, height: nh });
        w = nw;
        h = nh;
        break;
      }
      case "randRotate": {
        const angle = rng.uniform(s.degrees[0], s.degrees[1]);
        if (rng.random() < (s.p ?? 0.5)) {
          ops.push({ op: "rotate", angle, fill: s.fill, ignore: s.ignore ?? IGNORE_LABEL });
        }
        break;
      }
      case "randBlur":
        if (rng.random() < (s.p ?? 0.5)) ops.push({ op: "blur", ksize: s.ksize ?? 5 });
        break;
      case "photoMetric": {
        const { op: _, ...options } = s;
        ops.push({ op: "photometric", params: drawPhotoMetric(rng, options) });
        break;
      }
      case "hflip":
        if (rng.random() < (s.p ?? 0.5)) ops.push({ op: "hflip" });
        break;
      case "crop": {
        const [ch, cw] = s.size;
        // Pad to at least the crop size, split evenly with the extra pixel at the end.
        const ph = Math.max(ch - h, 0);
        const pw = Math.max(cw - w, 0);
        const pt = Math.trunc(ph / 2);
        const pl = Math.trunc(pw / 2);
        const H = h + ph;
        const W = w + pw;
        // semseg: random.randint(0, H - ch) is inclusive, hence the + 1.
        const top = s.type === "rand" ? rng.randint(0, H - ch + 1) : Math.trunc((H - ch) / 2);
        const left = s.type === "rand" ? rng.randint(0, W - cw + 1) : Math.trunc((W - cw) / 2);
        ops.push({
          op: "padCrop",
          pad: [pl, pt, pw - pl, ph - pt],
          left,
          top,
          width: cw,
          height: ch,
          fill: s.fill,
          ignore: s.ignore ?? IGNORE_LABEL,
        });
        w = cw;
        h = ch;
        break;
      }
      default:
        throw new Error(`segmentation transform "${s.op}" is not a pixel transform`);
    }
  }
  return ops;
}

/** Draws and applies the pixel steps: the whole joint augmentation of one sample. */
export function applySegSteps(pair: SegPair, steps: SegStep[], rng: Rng): SegPair {
  return applySegOps(pair, segParams(rng, steps, pair.image.width, pair.image.height));
}
