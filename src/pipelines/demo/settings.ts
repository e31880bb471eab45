// The demo's experiment, as data: KDEP's claim in miniature on Fashion-MNIST. Upstream
// (pre-training) and downstream (transfer) tasks are split by classes, so transfer is to
// classes the teacher never saw, with few labels. Sizes are chosen so the full demo runs in
// under 15 minutes on 2 cores from a cold cache (about 8 CPU-minutes on one thread).
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
