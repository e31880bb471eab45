// The demo's experiment, as data: KDEP's claim in miniature on Fashion-MNIST. Upstream
// (pre-training) and downstream (transfer) tasks are split by classes, so transfer is to
// classes the teacher never saw, with few labels. Sizes are chosen so the full demo runs in
// about 10 minutes on 2 cores once the teacher is cached.
import type { TransformStep } from "../../data/transforms/pipeline.js";

export const UPSTREAM = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Shirt"];
export const DOWNSTREAM = ["Sandal", "Sneaker", "Bag", "Ankle boot"];

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
    evalEvery: number;
  };
  seeds: number[];
}

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
    evalEvery: 10,
  },
  seeds: [0, 1],
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
  transfer: { perClass: 10, testPerClass: 100, epochs: 10, batchSize: 32, lr: 0.01, evalEvery: 5 },
  seeds: [0, 1],
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
