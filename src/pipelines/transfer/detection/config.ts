// Settings of a detection transfer run, with the recipe defaults of the reference protocol
// (Detectron2's VOC07+12 and COCO schedules at batch 16, lr 0.02, linear warm-up).
import type { DetectionBackboneName, DetectionHead } from "../../../models/detection/fasterRcnn.js";
import type { DetDatasetKind } from "./data.js";

export interface DetConfig {
  dataset: DetDatasetKind;
  data: string;
  backbone: DetectionBackboneName;
  /** ResNet base width (64); set for a narrow student's checkpoint. */
  width?: number;
  head: DetectionHead;
  /** Backbone weights spec (file, URL, torchvision:<arch>) or "none" for random init. */
  weights: string;
  out: string;
  iterations: number;
  /** Iterations at which the lr drops ×0.1. */
  steps: number[];
  warmupIters: number;
  warmupFactor: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Images per iteration. */
  batchSize: number;
  /** Short-side sizes drawn per image in training. */
  trainSizes: number[];
  testSize: number;
  maxSize: number;
  frozenBn: boolean;
  /** Data-parallel runs: trainable BatchNorm statistics over all ranks. */
  syncBn: boolean;
  /** RoIs sampled per training image (512). */
  roiBatchPerImage: number;
  /** RPN proposals kept per image before NMS, [training, testing] (2000, 1000). */
  rpnPreNms: [number, number];
  /** … and after NMS (2000, 1000). */
  rpnPostNms: [number, number];
  /** VOC-layout data with classes other than VOC's 20. */
  classes?: string[];
  seed: number;
  checkpointEvery: number;
  /** PNGs with truth and predictions drawn, from the first val images. */
  drawImages: number;
  /** Evaluate on the first N val images only (0 = all). */
  evalImages: number;
  /** Threads decoding training images ahead of the loop (0 = the main thread). */
  workers: number;
}

const range = (a: number, b: number, step: number) =>
  Array.from({ length: Math.floor((b - a) / step) + 1 }, (_, i) => a + i * step);

/** Recipe defaults per dataset; `over` wins. */
export function detDefaults(kind: DetDatasetKind, over: Partial<DetConfig> = {}): DetConfig {
  const coco = kind === "coco";
  return {
    dataset: kind,
    data: "",
    backbone: "resnet18",
    head: "c4",
    weights: "none",
    out: "runs/det",
    iterations: coco ? 90000 : 18000,
    steps: coco ? [60000, 80000] : [12000, 16000],
    warmupIters: 1000,
    warmupFactor: 0.001,
    lr: 0.02,
    momentum: 0.9,
    weightDecay: 1e-4,
    batchSize: 16,
    trainSizes: coco ? range(640, 800, 32) : range(480, 800, 32),
    testSize: 800,
    maxSize: 1333,
    frozenBn: false,
    syncBn: true,
    roiBatchPerImage: 512,
    rpnPreNms: [2000, 1000],
    rpnPostNms: [2000, 1000],
    seed: 0,
    checkpointEvery: 1000,
    drawImages: 4,
    evalImages: 0,
    workers: 2,
    ...over,
  };
}
