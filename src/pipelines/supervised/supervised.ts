// Supervised training with cross-entropy: the teacher of the demo and the "supervised
// pre-training" baselines of the paper (on 10% and on 100% of the data).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { type Batch, DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { saveStateDict } from "../../io/tensors.js";
import type { Backbone } from "../../models/backbone.js";
import { F } from "../../nn/index.js";
import { LRScheduler, type Schedule, SGD } from "../../optim/index.js";
import { manualSeed, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { type TrainResult, train } from "../common/trainLoop.js";
import { evaluateClassifier } from "../transfer/classify.js";

export interface SupervisedInputs {
  /** Builds the model after the seed is set, so its random init is the seed's (libtorch's
   * global generator is seeded randomly at start-up). */
  createModel: () => Backbone;
  train: Dataset;
  trainTransform: TransformStep[];
  val?: Dataset;
  valTransform?: TransformStep[];
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** Default: ×0.1 at 2/3 of the epochs. */
  schedule?: Schedule;
  evalEvery?: number;
  workers?: number;
  seed?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
}

export interface SupervisedResult extends TrainResult {
  model: Backbone;
  weightsPath: string;
  valTop1: number | null;
}

export const WEIGHTS_FILE = "model.pth";

export async function runSupervised(o: SupervisedInputs): Promise<SupervisedResult> {
  manualSeed(o.seed ?? 0);
  const model = o.createModel();
  model.preReluFeature = false;
  model.train();
  if (model.numClasses !== o.train.classes.length) {
    throw new Error(
      `The model has ${model.numClasses} outputs but ${o.train.spec.name} has ${o.train.classes.length} classes`,
    );
  }
  mkdirSync(o.out, { recursive: true });
  const { createModel: _m, train: _t, val: _v, ...plain } = o;
  writeFileSync(
    join(o.out, "config.json"),
    `${JSON.stringify({ ...plain, trainImages: o.train.length }, null, 2)}\n`,
  );
  const loader = new DataLoader(o.train, {
    batchSize: o.batchSize,
    transform: o.trainTransform,
    shuffle: true,
    seed: o.seed ?? 0,
    dropLast: o.train.length >= o.batchSize,
    numWorkers: o.workers ?? 1,
    labelDtype: "int64",
  });
  const optimizer = new SGD(model.parameters(), {
    lr: o.lr,
    momentum: o.momentum ?? 0.9,
    weightDecay: o.weightDecay ?? 5e-4,
  });
  const schedule = o.schedule ?? {
    kind: "multistep",
    milestones: [Math.max(1, Math.round((o.epochs * 2) / 3))],
    gamma: 0.1,
  };
  const scheduler = new LRScheduler(optimizer.paramGroups, schedule);
  const weightsPath = join(o.out, WEIGHTS_FILE);
  let valTop1: number | null = null;
  try {
    const r = await train<Batch>({
      name: "supervised",
      runDir: o.out,
      epochs: o.epochs,
      stepsPerEpoch: loader.batchesPerEpoch,
      batches: (e, start) => loader.epoch(e, undefined, start),
      batchSize: (b) => b.shape[0],
      trainStep: (b) =>
        tidy(() => {
          const { images, labels } = toTensors(b);
          optimizer.zeroGrad();
          const loss = F.crossEntropy(model.forward(images), labels);
          loss.backward();
          optimizer.step();
          return { ce: loss.item() };
        }),
      optimizer,
      scheduler,
      scheduleUnit: "epoch",
      evalEvery: o.val ? (o.evalEvery ?? o.epochs) : 0,
      evaluate: async (): Promise<Record<string, number>> => {
        if (!o.val) return {};
        const r = await evaluateClassifier(
          model,
          o.val,
          o.valTransform ?? o.trainTransform,
          model.numClasses,
          {
            workers: o.workers ?? 1,
          },
        );
        valTop1 = r.top1;
        return { top1: r.top1 };
      },
      state: () => ({ model: model.stateDict() }) as Record<string, CheckpointValue>,
      restore: (s) => {
        model.loadStateDict(s.model as Map<string, Tensor>);
      },
      afterEpoch: () => saveStateDict(weightsPath, model.stateDict()),
      progress: o.progress,
    });
    const last = r.history.filter((h) => typeof h.top1 === "number").pop();
    return { ...r, model, weightsPath, valTop1: valTop1 ?? last?.top1 ?? null };
  } finally {
    await loader.close();
  }
}
