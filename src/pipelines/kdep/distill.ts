// KDEP distillation (docs/method.md): a frozen teacher's pooled pre-ReLU feature,
// aligned by SVD (or a baseline), becomes the regression target of a randomly initialised
// student's pooled pre-ReLU feature. The student alone is exported after every epoch.
// With a target cache (`kdep targets`) the teacher is not run: each batch's targets are read
// for its (epoch, image indices), the images the student sees being the same augmentation.
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { type Batch, DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { syncBuffers } from "../../distributed/evalShard.js";
import type { DistGroup } from "../../distributed/group.js";
import { convertSyncBatchNorm } from "../../distributed/syncBatchNorm.js";
import { removeStaleTemps } from "../../io/atomicWrite.js";
import { saveStateDict } from "../../io/tensors.js";
import type { Backbone } from "../../models/backbone.js";
import { createModel } from "../../models/registry.js";
import type { GradScalerOptions, SGD } from "../../optim/index.js";
import { resolveAmp, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { evalShardOf } from "../common/evalShard.js";
import { pollSignals, StopSignal } from "../common/interrupt.js";
import { runTraining } from "../common/run.js";
import { RunLog } from "../common/runLog.js";
import type { TrainResult } from "../common/trainLoop.js";
import {
  type Alignment,
  IdentityAlignment,
  LinearAlignment,
  LogitAlignment,
  SvdAlignment,
  type SvdBasis,
} from "./alignment.js";
import { type DistillConfig, defaultLossWeight, defaultLr } from "./distillConfig.js";
import { Distiller } from "./distiller.js";
import { imageListHash, type TargetExpectations } from "./targetCacheFormat.js";
import type { TargetCache } from "./targetCacheReader.js";

export interface DistillInputs {
  config: DistillConfig;
  /** Required unless `targets` is given. */
  teacher?: Backbone;
  /** Cached teacher targets (SVD alignment only); the teacher is then not run. */
  targets?: TargetCache;
  /** What the cache must have been built from, besides this run's data and settings. */
  targetsExpect?: Pick<TargetExpectations, "teacher" | "svd">;
  train: Dataset;
  trainTransform: TransformStep[];
  val?: Dataset;
  valTransform?: TransformStep[];
  /** Required for align "svd". */
  svd?: SvdBasis;
  /**
   * A custom student (e.g. narrower widths); default: createModel(config.student). Pass a
   * factory for a reproducible run: it is called after config.seed is set, whereas a built
   * instance holds whatever the caller's generator drew.
   */
  student?: Backbone | (() => Backbone);
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (with a checkpoint) after this many steps. */
  stopAfterSteps?: number;
  /** Test hook: float16's loss scaling without autocast (fp16 autocast needs CUDA). */
  lossScaling?: GradScalerOptions;
  /** Data-parallel group (src/distributed): config.batchSize stays the global batch. */
  distributed?: DistGroup;
}

/** What {@link runDistill} returns: the student, where it was written, the loop's history. */
export interface DistillResult extends TrainResult {
  runDir: string;
  studentPath: string;
  student: Backbone;
  lossWeight: number;
  lr: number;
  /** Validation loss before training (null when resumed or without val data). */
  initialValLoss: number | null;
}

export const STUDENT_FILE = "student.pth";

/** Settings a resumed run may change: where things are, how fast, how long, how often. */
const MAY_CHANGE_ON_RESUME = [
  "epochs",
  "workers",
  "out",
  "data",
  "svd",
  "device",
  "channelsLast",
  "amp",
  "microBatch",
  "valEvery",
  "checkpointEvery",
];

function buildAlignment(
  c: DistillConfig,
  inputs: DistillInputs,
  student: Backbone,
  w: number,
): Alignment {
  const ptsOpts = c.pts ? { temperature: c.ptsTemperature, power: c.ptsPower } : null;
  switch (c.align) {
    case "svd":
      if (inputs.targets) return new SvdAlignment(null, student.featureDim, w, ptsOpts);
      if (!inputs.svd)
        throw new Error('align "svd" needs the SVD of the teacher: run `kdep svd` first');
      return new SvdAlignment(inputs.svd, student.featureDim, w, ptsOpts);
    case "linear":
      if (!inputs.teacher) throw new Error('align "linear" needs the teacher');
      return new LinearAlignment(student.featureDim, inputs.teacher.featureDim, w, ptsOpts);
    case "none":
      return new IdentityAlignment(w, ptsOpts);
    case "logits":
      return new LogitAlignment(w, c.kdTemperature);
  }
}

export async function runDistill(inputs: DistillInputs): Promise<DistillResult> {
  const c = inputs.config;
  const lr = c.lr ?? defaultLr(c.student);
  const lossWeight = c.lossWeight ?? defaultLossWeight(c.teacherWeights, c.align);
  const needLogits = c.align === "logits" || c.logitWeight > 0 || c.ceWeight > 0;
  const cache = inputs.targets;
  const teacher = cache ? null : (inputs.teacher ?? null);
  if (!teacher && !cache) throw new Error("distill needs a teacher or a target cache");
  if (cache && (c.align !== "svd" || needLogits))
    throw new Error(
      `Cached teacher targets serve the SVD feature loss only (align "${c.align}"${needLogits ? " with logit/CE terms" : ""} needs the teacher)`,
    );
  const runDir = c.out;
  const studentPath = join(runDir, STUDENT_FILE);
  const dist = inputs.distributed;
  const lead = !dist || dist.isLead;
  if (lead) removeStaleTemps(studentPath);
  let initialValLoss: number | null = null;

  const r = await runTraining({
    name: "distill",
    runDir,
    seed: c.seed,
    settings: { ...c, lr, lossWeight },
    mayChangeOnResume: MAY_CHANGE_ON_RESUME,
    epochs: c.epochs,
    evalEvery: c.valEvery,
    checkpointEvery: c.checkpointEvery,
    progress: inputs.progress,
    stopAfterSteps: inputs.stopAfterSteps,
    distributed: dist,
    data: {
      dataset: inputs.train,
      batchSize: c.batchSize,
      transform: inputs.trainTransform,
      shuffle: true,
      dropLast: inputs.train.length >= c.batchSize,
      numWorkers: c.workers,
      labelDtype: "int64",
    },
    optimizer: { lr, momentum: c.momentum, weightDecay: c.weightDecay },
    schedule: { unit: "epoch", schedule: { kind: "step", stepSize: c.lrStep, gamma: c.lrGamma } },
    build: () => {
      // The Distiller freezes the teacher and checks that logit terms have heads to read.
      // The student carries a head only when a loss reads its logits (the final method
      // does not).
      const student =
        typeof inputs.student === "function"
          ? inputs.student()
          : (inputs.student ??
            createModel(c.student, {
              numClasses: needLogits ? (teacher?.numClasses ?? 0) : 0,
              preReluFeature: true,
            }));
      const align = buildAlignment(c, inputs, student, lossWeight);
      teacher?.to(c.device); // first: the Distiller readies the teacher for its device
      const distiller = new Distiller(teacher, student, align, {
        logitWeight: c.logitWeight,
        ceWeight: c.ceWeight,
        kdTemperature: c.kdTemperature,
        channelsLast: c.channelsLast,
        amp: resolveAmp(c.amp, c.device),
        lossScaling: inputs.lossScaling,
      });
      // Before the optimiser is built; `to` keeps the tensor objects, so either order works.
      distiller.to(c.device);
      cache?.check({
        ...inputs.targetsExpect,
        seed: c.seed,
        transform: inputs.trainTransform,
        images: imageListHash(inputs.train),
        k: student.featureDim,
        epochs: c.epochs,
      });
      distiller.train();
      if (dist && c.syncBn) convertSyncBatchNorm(student, dist);
      const evaluate = (stop?: StopSignal) => validationLoss(distiller, inputs, stop);
      return {
        student,
        params: distiller.parameters(),
        // The loss: the aligned feature regression (plus any logit terms), in Distiller.step.
        step: (b: Batch, { optimizer, epoch }: { optimizer: SGD; epoch: number }) =>
          tidy(() => {
            const { images, labels } = toTensors(b, c.device);
            const t = cache?.targets(epoch, b.indices, student.featureDim, c.device);
            return distiller.step(images, labels, optimizer, c.microBatch, t);
          }),
        evaluate: () => evaluate(),
        // fp16's loss scale and growth tracker too, so a resumed run scales as an
        // uninterrupted one would.
        state: () =>
          ({
            model: student.stateDict(),
            align: align.stateDict(),
            ...(distiller.scaler ? { scaler: { ...distiller.scaler.stateDict() } } : {}),
          }) as Record<string, CheckpointValue>,
        restore: (s: Record<string, CheckpointValue>) => {
          student.loadStateDict(s.model as Map<string, Tensor>);
          align.loadStateDict(s.align as Map<string, Tensor>);
          if (distiller.scaler && s.scaler instanceof Map) distiller.scaler.loadStateDict(s.scaler);
        },
        afterEpoch: () => saveStateDict(studentPath, student.stateDict()),
        // The starting point of the validation curve, once per run (not again on resume).
        beforeFirstEpoch: async () => {
          if (!inputs.val || cache || c.valEvery <= 0) return true;
          const stop = new StopSignal("stopping the initial validation pass (nothing trained yet)");
          try {
            const { val_loss } = await evaluate(stop);
            if (!stop.requested) initialValLoss = val_loss;
          } finally {
            stop.dispose();
          }
          if (initialValLoss === null) return false;
          if (lead)
            new RunLog(runDir, { tensorboard: false }).log("distill/initial", {
              val_loss: initialValLoss,
            });
          return true;
        },
      };
    },
  });
  cache?.close();
  const { parts, ...result } = r;
  return { ...result, studentPath, student: parts.student, lossWeight, lr, initialValLoss };
}

/** Mean validation loss per image; `stop` ends the pass early (Ctrl-C before train() listens). */
async function validationLoss(
  distiller: Distiller,
  inputs: DistillInputs,
  stop?: StopSignal,
): Promise<Record<string, number>> {
  const c = inputs.config;
  // The validation loss needs the teacher's targets of the validation images.
  if (!inputs.val || inputs.targets) return {};
  const dist = inputs.distributed;
  if (dist) syncBuffers(dist, [distiller]);
  distiller.eval();
  // Data-parallel: each rank its shard of the images, the sums added over the ranks.
  const { shard } = evalShardOf(inputs.val, dist);
  const valLoader = new DataLoader(shard, {
    batchSize: Math.min(c.batchSize, 256),
    transform: inputs.valTransform ?? inputs.trainTransform,
    numWorkers: c.workers,
    labelDtype: "int64",
  });
  let sum = 0;
  let n = 0;
  try {
    for await (const b of valLoader.epoch(0)) {
      sum += tidy(() => {
        const { images, labels, size } = toTensors(b, c.device);
        const terms = distiller.evalLosses(images, labels);
        return Object.values(terms).reduce((a, v) => a + v, 0) * size;
      });
      n += b.shape[0];
      if (stop) {
        await pollSignals();
        if (stop.requested) break;
      }
    }
  } finally {
    await valLoader.close();
    distiller.train();
  }
  if (dist) {
    await dist.allArrive();
    const all = dist.sumArray(new Float64Array([sum, n, stop?.requested ? 1 : 0]));
    [sum, n] = [all[0], all[1]];
    // A pass stopped on one rank is stopped on all (they then agree on what comes next).
    if (all[2] > 0) stop?.request("stop on another rank");
  }
  return { val_loss: sum / Math.max(1, n) };
}
