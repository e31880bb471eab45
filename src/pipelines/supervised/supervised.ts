// Supervised training with cross-entropy: the teacher of the demo and the "supervised
// pre-training" baselines of the paper (on 10% and on 100% of the data).
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import type { Batch } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import type { DistGroup } from "../../distributed/group.js";
import { saveStateDict } from "../../io/tensors.js";
import type { Backbone } from "../../models/backbone.js";
import { F } from "../../nn/index.js";
import type { Schedule, SGD } from "../../optim/index.js";
import { type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { runTraining } from "../common/run.js";
import type { TrainResult } from "../common/trainLoop.js";
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
  /** Data-parallel group (src/distributed): batchSize stays global; rank 0 alone writes. */
  distributed?: DistGroup;
}

export interface SupervisedResult extends TrainResult {
  model: Backbone;
  weightsPath: string;
  valTop1: number | null;
}

export const WEIGHTS_FILE = "model.pth";

/** Settings a resumed run may change: where things are, how fast, how it reports. */
const MAY_CHANGE_ON_RESUME = ["out", "workers", "epochs", "evalEvery", "progress"];

export async function runSupervised(o: SupervisedInputs): Promise<SupervisedResult> {
  const seed = o.seed ?? 0;
  const weightsPath = join(o.out, WEIGHTS_FILE);
  const { createModel: _m, train: _t, val: _v, distributed, ...plain } = o;
  // The default schedule follows the epochs: recorded resolved, a longer resume is refused.
  const schedule: Schedule = o.schedule ?? {
    kind: "multistep",
    milestones: [Math.max(1, Math.round((o.epochs * 2) / 3))],
    gamma: 0.1,
  };
  let valTop1: number | null = null;
  const r = await runTraining({
    name: "supervised",
    runDir: o.out,
    seed,
    settings: { ...plain, schedule, trainImages: o.train.length },
    mayChangeOnResume: MAY_CHANGE_ON_RESUME,
    epochs: o.epochs,
    evalEvery: o.val ? (o.evalEvery ?? o.epochs) : 0,
    progress: o.progress,
    distributed,
    data: {
      dataset: o.train,
      batchSize: o.batchSize,
      transform: o.trainTransform,
      shuffle: true,
      dropLast: o.train.length >= o.batchSize,
      numWorkers: o.workers ?? 1,
      labelDtype: "int64",
    },
    optimizer: { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 },
    schedule: { unit: "epoch", schedule },
    build: () => {
      const model = o.createModel();
      model.preReluFeature = false;
      model.train();
      if (model.numClasses !== o.train.classes.length) {
        throw new Error(
          `The model has ${model.numClasses} outputs but ${o.train.spec.name} has ${o.train.classes.length} classes`,
        );
      }
      return {
        model,
        params: model.parameters(),
        // The loss: cross-entropy on the labels.
        step: (b: Batch, { optimizer }: { optimizer: SGD }) =>
          tidy(() => {
            const { images, labels } = toTensors(b);
            optimizer.zeroGrad();
            const loss = F.crossEntropy(model.forward(images), labels);
            loss.backward();
            optimizer.step();
            return { ce: loss.item() };
          }),
        evaluate: async (): Promise<Record<string, number>> => {
          if (!o.val) return {};
          const r = await evaluateClassifier(
            model,
            o.val,
            o.valTransform ?? o.trainTransform,
            model.numClasses,
            { workers: o.workers ?? 1, distributed },
          );
          valTop1 = r.top1;
          return { top1: r.top1 };
        },
        state: () => ({ model: model.stateDict() }) as Record<string, CheckpointValue>,
        restore: (s: Record<string, CheckpointValue>) => {
          model.loadStateDict(s.model as Map<string, Tensor>);
        },
        afterEpoch: () => saveStateDict(weightsPath, model.stateDict()),
      };
    },
  });
  const { parts, runDir: _r, ...result } = r;
  const last = result.history.filter((h) => typeof h.top1 === "number").pop();
  return { ...result, model: parts.model, weightsPath, valTop1: valTop1 ?? last?.top1 ?? null };
}
