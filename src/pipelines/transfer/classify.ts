// Classification transfer (docs/method.md#classification-transfer): a new Linear head on a
// pre-trained backbone, everything fine-tuned (or a linear probe), evaluated every N epochs; the
// reported number is the best top-1 over those evaluations, with the final one beside it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { type Batch, DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { syncBuffers } from "../../distributed/evalShard.js";
import type { DistGroup } from "../../distributed/group.js";
import type { Backbone } from "../../models/backbone.js";
import { BatchNorm1d, F, type Module } from "../../nn/index.js";
import type { SGD } from "../../optim/index.js";
import { noGrad, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { evalShardOf } from "../common/evalShard.js";
import { runTraining } from "../common/run.js";
import type { TransferConfig } from "./classifyConfig.js";
import { ClassificationMeter } from "./metrics.js";

export interface ClassifyInputs {
  config: TransferConfig;
  /**
   * Builds the backbone and loads its pre-trained weights (its head is then replaced). Called
   * after the run's seed is set: a random init (or any weight the file lacks) is drawn from
   * that seed, not from the global generator, which libtorch seeds randomly at start-up.
   */
  createBackbone: () => Backbone;
  numClasses: number;
  train: Dataset;
  test: Dataset;
  trainTransform: TransformStep[];
  testTransform: TransformStep[];
  /** Which run of `runs` this is: seeds and the run folder follow it. */
  run?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Data-parallel group (src/distributed): config.batchSize stays the global batch. */
  distributed?: DistGroup;
}

/** One classification transfer run: accuracies, history and the trained model. */
export interface ClassifyResult {
  bestTop1: number;
  finalTop1: number;
  finalTop5: number;
  finalMeanPerClass: number;
  bestEpoch: number;
  seconds: number;
  runDir: string;
  history: Array<{ epoch: number } & Record<string, number>>;
  /** The trained model (not written to result.json). */
  model: Backbone;
}

export async function evaluateClassifier(
  model: Backbone,
  data: Dataset,
  transform: TransformStep[],
  numClasses: number,
  o: {
    batchSize?: number;
    workers?: number;
    device?: string;
    /** Logits from images in eval mode; default model.forward. */
    logits?: (images: Tensor) => Tensor;
    /**
     * Data-parallel group: each rank evaluates its shard (with rank 0's BN statistics, also
     * those of `modules`) and the counts are summed, so every rank gets the whole set's result.
     */
    distributed?: DistGroup;
    /** Modules besides `model` that `logits` uses (their buffers come from rank 0). */
    modules?: Module[];
  } = {},
) {
  const logits = o.logits ?? ((x: Tensor) => model.forward(x));
  const dist = o.distributed;
  if (dist) syncBuffers(dist, [model, ...(o.modules ?? [])]);
  const { shard } = evalShardOf(data, dist);
  const loader = new DataLoader(shard, {
    batchSize: o.batchSize ?? 128,
    transform,
    numWorkers: o.workers ?? 2,
    labelDtype: "int64",
  });
  const meter = new ClassificationMeter(numClasses);
  const wasTraining = model.training;
  model.eval();
  try {
    for await (const b of loader.epoch(0)) {
      tidy(() =>
        noGrad(() => {
          const { images, labels } = toTensors(b, o.device);
          meter.add(logits(images), labels);
        }),
      );
    }
  } finally {
    await loader.close();
    model.train(wasTraining);
  }
  // Images this rank evaluated; the result counts the whole set.
  const local = meter.count;
  if (dist) {
    await dist.allArrive();
    meter.reduce((t) => dist.sumArray(t));
  }
  return { ...meter.result(), local };
}

/** Settings a resumed transfer run may change: where things are, how fast, how many runs. */
const MAY_CHANGE_ON_RESUME = ["out", "data", "workers", "device", "runs", "epochs", "evalEvery"];

export async function runClassification(inputs: ClassifyInputs): Promise<ClassifyResult> {
  const c = inputs.config;
  const run = inputs.run ?? 0;
  const seed = c.seed + run;
  const runDir = join(c.out, `run${run}`);
  const probe = c.mode === "linear-probe";
  let best = { top1: -1, epoch: 0 };
  let last = { top1: 0, top5: 0, meanPerClass: 0 };

  // A run folder with a checkpoint is continued (the suite picks up where it stopped), but
  // only with the settings it was started with.
  const r = await runTraining({
    name: "transfer",
    runDir,
    seed,
    settings: { ...c, run, seed },
    mayChangeOnResume: MAY_CHANGE_ON_RESUME,
    epochs: c.epochs,
    evalEvery: c.evalEvery,
    progress: inputs.progress,
    distributed: inputs.distributed,
    data: {
      dataset: inputs.train,
      batchSize: c.batchSize,
      transform: inputs.trainTransform,
      shuffle: true,
      dropLast: false,
      numWorkers: c.workers,
      labelDtype: "int64",
    },
    optimizer: { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay },
    schedule: { unit: "epoch", schedule: { kind: "step", stepSize: c.lrStep, gamma: c.lrGamma } },
    build: () => {
      // Built after the seed: its random init, the new head and any dropout draw from it.
      const model = inputs.createBackbone();
      model.preReluFeature = false; // transfer uses the standard network (§2)
      model.resetClassifier(inputs.numClasses);
      model.to(c.device);
      if (probe) model.requiresGrad_(false);
      // MAE's probe: features standardised by a BatchNorm without affine before the head, so
      // the head's learning rate means the same whatever scale pre-training left them at.
      const norm =
        probe && c.probeNorm ? new BatchNorm1d(model.featureDim, { affine: false }) : null;
      norm?.to(c.device);
      const logits = (images: Tensor): Tensor => {
        if (!norm) return model.forward(images);
        return tidy(() => {
          const head = model.getModule(headName(model)) as Module & { forward(x: Tensor): Tensor };
          const pooled = model.forwardHead(model.forwardFeatures(images), { preLogits: true });
          return head.forward(norm.forward(pooled));
        });
      };
      const setMode = () => {
        model.train();
        if (probe) model.eval(); // a probe keeps the backbone's BN statistics frozen
        norm?.train();
      };
      setMode();
      return {
        model,
        params: probe
          ? model.getModule(headName(model))!.requiresGrad_(true).parameters()
          : model.parameters(),
        // The loss: cross-entropy of the new head on the labels.
        step: (b: Batch, { optimizer }: { optimizer: SGD }) =>
          tidy(() => {
            const { images, labels } = toTensors(b, c.device);
            optimizer.zeroGrad();
            const loss = F.crossEntropy(logits(images), labels);
            loss.backward();
            optimizer.step();
            return { ce: loss.item() };
          }),
        evaluate: async (epoch: number) => {
          norm?.eval();
          const r = await evaluateClassifier(
            model,
            inputs.test,
            inputs.testTransform,
            inputs.numClasses,
            {
              workers: c.workers,
              device: c.device,
              logits,
              distributed: inputs.distributed,
              modules: norm ? [norm] : [],
            },
          );
          setMode();
          last = r;
          if (r.top1 > best.top1) best = { top1: r.top1, epoch };
          return {
            top1: r.top1,
            top5: r.top5,
            mean_per_class: r.meanPerClass,
            best_top1: best.top1,
          };
        },
        // The best top-1 so far travels with the weights: a resumed run's best_top1 column
        // must be the one an uninterrupted run logs.
        state: () =>
          ({
            model: model.stateDict(),
            ...(norm ? { probeNorm: norm.stateDict() } : {}),
            best_top1: best.top1,
            best_epoch: best.epoch,
          }) as Record<string, CheckpointValue>,
        restore: (s: Record<string, CheckpointValue>) => {
          model.loadStateDict(s.model as Map<string, Tensor>);
          if (norm) norm.loadStateDict(s.probeNorm as Map<string, Tensor>);
          if (typeof s.best_top1 === "number" && typeof s.best_epoch === "number") {
            best = { top1: s.best_top1, epoch: s.best_epoch };
          }
        },
      };
    },
  });
  // After a resume the best so far comes from the history.
  for (const h of r.history) {
    if (typeof h.top1 === "number" && h.top1 > best.top1) best = { top1: h.top1, epoch: h.epoch };
  }
  const lastEval = r.history.filter((h) => typeof h.top1 === "number").pop();
  if (lastEval)
    last = { top1: lastEval.top1, top5: lastEval.top5, meanPerClass: lastEval.mean_per_class };
  const out: Omit<ClassifyResult, "model"> = {
    bestTop1: best.top1,
    finalTop1: last.top1,
    finalTop5: last.top5,
    finalMeanPerClass: last.meanPerClass,
    bestEpoch: best.epoch,
    seconds: r.seconds,
    runDir,
    history: r.history,
  };
  if (!inputs.distributed || inputs.distributed.isLead)
    writeFileSync(join(runDir, "result.json"), `${JSON.stringify(out, null, 2)}\n`);
  return { ...out, model: r.parts.model };
}

function headName(model: Backbone): string {
  for (const n of ["fc", "classifier"]) if (model.getModule(n)) return n;
  throw new Error("Linear probe: the model has no fc/classifier head");
}
