// The demo's experiment, as data: KDEP's claim in miniature on Fashion-MNIST. Upstream
// (pre-training) and downstream (transfer) tasks are split by classes, so transfer is to
// classes the teacher never saw, with few labels. Sizes are chosen so the full demo runs in
// under 15 minutes on 2 cores from a cold cache (about 8 CPU-minutes on one thread for the
// classification stages, about 4 more for the segmentation and detection rows).
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { classNames, DEFAULT_SPLIT } from "./split.js";

/** The default split's class names (a run may choose another with --upstream/--downstream). */
export const UPSTREAM = classNames(DEFAULT_SPLIT.upstream);
export const DOWNSTREAM = classNames(DEFAULT_SPLIT.downstream);

export interface DemoSettings {
  mode: "full" | "quick";
  /** Upstream training images per class (null: all 6000). */
  upstreamPerClass: number | null;
  /** Share of upstream data KDEP and the 10% baselines see. */
  subsetFraction: number;
  imageSize: number;
  width: number;
  teacher: { arch: string; epochs: number; batchSize: number; lr: number };
  student: { arch: string };
  distill: { epochs: number; batchSize: number; lr: number };
  sup10: { epochs: number; batchSize: number; lr: number };
  sup100: { epochs: number; batchSize: number; lr: number };
  transfer: {
    perClass: number;
    testPerClass: number | null;
    epochs: number;
    batchSize: number;
    lr: number;
    /** Test top-1 every n epochs; the verdict uses the last, so only the last is needed. */
    evalEvery: number;
  };
  /** Linear probe on the held-out classes: a new head on the frozen backbone, same labelled
   * images and seeds as fine-tuning. */
  probe: { epochs: number; batchSize: number; lr: number };
  /** Each student's upstream top-1: a linear probe trained on the 10% subset, tested on
   * `testPerClass` upstream test images per class. */
  upstreamProbe: { epochs: number; batchSize: number; lr: number; testPerClass: number };
  seeds: number[];
  /** Segmentation and detection transfer on canvases of the held-out classes. */
  dense: DenseSettings;
}

/**
 * The dense tasks: each pre-trained student fine-tuned as a PSPNet backbone and as a Faster
 * R-CNN (FPN) trunk on offline tasks pasted from the downstream classes' images, with the
 * first `seeds` of the run's seeds. Channel counts of the heads scale with the student's
 * width (PSPNet's 512, FPN's 256, the box head's 1024 at width 64); the base lrs are the
 * recipes' (PSPNet 0.01 at batch 16; Faster R-CNN 0.02 at 16 images per iteration, scaled
 * down for smaller batches).
 */
export interface DenseSettings {
  seeds: number;
  seg: {
    /** Canvases: side, objects per canvas, object scale over 28 px. */
    size: number;
    objects: [number, number];
    scale: [number, number];
    train: number;
    val: number;
    epochs: number;
    batchSize: number;
    lr: number;
  };
  det: {
    /** Canvas sides drawn from [minSide, maxSide]; objects up to maxObjects. */
    minSide: number;
    maxSide: number;
    maxObjects: number;
    train: number;
    val: number;
    /** Short side the detector resizes to, in training and test. */
    imageSize: number;
    iterations: number;
    batchSize: number;
    lr: number;
    roiBatchPerImage: number;
  };
}

/** Five seeds: enough pairs for the paired t-test behind each verdict to have power. */
export const DEFAULT_SEEDS = [0, 1, 2, 3, 4];

export const FULL: DemoSettings = {
  mode: "full",
  upstreamPerClass: null,
  subsetFraction: 0.1,
  imageSize: 32,
  width: 16,
  teacher: { arch: "resnet50", epochs: 4, batchSize: 128, lr: 0.1 },
  student: { arch: "resnet18" },
  distill: { epochs: 20, batchSize: 128, lr: 0.1 },
  sup10: { epochs: 20, batchSize: 128, lr: 0.1 },
  sup100: { epochs: 2, batchSize: 128, lr: 0.1 },
  transfer: {
    perClass: 20,
    testPerClass: null,
    epochs: 40,
    batchSize: 32,
    lr: 0.01,
    evalEvery: 40,
  },
  probe: { epochs: 20, batchSize: 32, lr: 0.1 },
  upstreamProbe: { epochs: 4, batchSize: 128, lr: 0.1, testPerClass: 200 },
  seeds: DEFAULT_SEEDS,
  dense: {
    seeds: 3,
    seg: {
      size: 48,
      objects: [1, 2],
      scale: [0.9, 1.3],
      train: 48,
      val: 32,
      epochs: 16,
      batchSize: 8,
      lr: 0.01,
    },
    det: {
      minSide: 96,
      maxSide: 160,
      maxObjects: 3,
      train: 64,
      val: 32,
      imageSize: 96,
      iterations: 64,
      batchSize: 2,
      lr: 0.005,
      roiBatchPerImage: 64,
    },
  },
};

export const QUICK: DemoSettings = {
  mode: "quick",
  upstreamPerClass: 500,
  subsetFraction: 0.1,
  imageSize: 32,
  width: 8,
  teacher: { arch: "resnet50", epochs: 2, batchSize: 64, lr: 0.1 },
  student: { arch: "resnet18" },
  distill: { epochs: 4, batchSize: 64, lr: 0.1 },
  sup10: { epochs: 4, batchSize: 64, lr: 0.1 },
  sup100: { epochs: 1, batchSize: 64, lr: 0.1 },
  transfer: { perClass: 10, testPerClass: 100, epochs: 10, batchSize: 32, lr: 0.01, evalEvery: 10 },
  probe: { epochs: 10, batchSize: 32, lr: 0.1 },
  upstreamProbe: { epochs: 2, batchSize: 64, lr: 0.1, testPerClass: 100 },
  seeds: DEFAULT_SEEDS,
  // The full demo's dense tasks, smaller and shorter.
  dense: {
    seeds: 2,
    seg: { ...FULL.dense.seg, train: 24, val: 16, epochs: 8 },
    det: { ...FULL.dense.det, train: 32, val: 16, iterations: 24 },
  },
};

// Fashion-MNIST's overall mean/std, replicated over the 3 channels the networks take.
export const MEAN = [0.286, 0.286, 0.286];
export const STD = [0.353, 0.353, 0.353];

/** KDEP's augmentation (docs/method.md#augmentation) scaled to 28-px images: the crop keeps at
 * least a third of the image, since 8% of a 28-px garment is a few pixels. */
export function pretrainTransform(size: number): TransformStep[] {
  return [
    { op: "randomResizedCrop", size, scale: [0.35, 1], ratio: [3 / 4, 4 / 3] },
    { op: "hflip", p: 0.5 },
    { op: "colorJitter", brightness: 0.1, contrast: 0.1, saturation: 0.1 },
    { op: "toTensor" },
    { op: "lighting", alphaStd: 0.05, clamp: true },
    { op: "normalize", mean: MEAN, std: STD },
  ];
}

export function transferTrainTransform(size: number): TransformStep[] {
  return [
    { op: "randomResizedCrop", size, scale: [0.5, 1] },
    { op: "hflip", p: 0.5 },
    { op: "toTensor" },
    { op: "normalize", mean: MEAN, std: STD },
  ];
}

export function testTransform(size: number): TransformStep[] {
  return [{ op: "resize", size }, { op: "toTensor" }, { op: "normalize", mean: MEAN, std: STD }];
}
