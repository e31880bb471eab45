// KDEP distillation (kdep-method.md §2–§5): a frozen teacher's pooled pre-ReLU feature,
// aligned by SVD (or a baseline), becomes the regression target of a randomly initialised
// student's pooled pre-ReLU feature. The student alone is exported after every epoch.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { type DistGroup, shardOptions } from "../../distributed/group.js";
import { convertSyncBatchNorm } from "../../distributed/syncBatchNorm.js";
import { removeStaleTemps } from "../../io/atomicWrite.js";
import { saveStateDict } from "../../io/tensors.js";
import type { Backbone } from "../../models/backbone.js";
import { createModel } from "../../models/registry.js";
import { LRScheduler, SGD } from "../../optim/index.js";
import { manualSeed, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { pollSignals, StopSignal } from "../common/interrupt.js";
import { checkResumable } from "../common/resume.js";
import { RunLog } from "../common/runLog.js";
import { CHECKPOINT_FILE, type TrainResult, train } from "../common/trainLoop.js";
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

export interface DistillInputs {
  config: DistillConfig;
  teacher: Backbone;
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
  /** Data-parallel group (src/distributed): config.batchSize stays the global batch. */
  distributed?: DistGroup;
}

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
export const CONFIG_FILE = "config.json";

/** Settings a resumed run may change: where things are, how fast, how long, how often. */
const MAY_CHANGE_ON_RESUME = new Set([
  "epochs",
  "workers",
  "out",
  "data",
  "svd",
  "device",
  "channelsLast",
  "microBatch",
  "valEvery",
  "checkpointEvery",
]);

function buildAlignment(
  c: DistillConfig,
  inputs: DistillInputs,
  student: Backbone,
  w: number,
): Alignment {
  const ptsOpts = c.pts ? { temperature: c.ptsTemperature, power: c.ptsPower } : null;
  switch (c.align) {
    case "svd":
      if (!inputs.svd)
        throw new Error('align "svd" needs the SVD of the teacher: run `kdep svd` first');
      return new SvdAlignment(inputs.svd, student.featureDim, w, ptsOpts);
    case "linear":
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
  manualSeed(c.seed);

  // The Distiller freezes the teacher and checks that logit terms have heads to read.
  const teacher = inputs.teacher;
  // The student carries a head only when a loss reads its logits (the final method does not).
  const student =
    typeof inputs.student === "function"
      ? inputs.student()
      : (inputs.student ??
        createModel(c.student, {
          numClasses: needLogits ? teacher.numClasses : 0,
          preReluFeature: true,
        }));
  const align = buildAlignment(c, inputs, student, lossWeight);
  const distiller = new Distiller(teacher, student, align, {
    logitWeight: c.logitWeight,
    ceWeight: c.ceWeight,
    kdTemperature: c.kdTemperature,
    channelsLast: c.channelsLast,
  });
  // Before the optimiser is built; `to` keeps the tensor objects, so either order works.
  teacher.to(c.device);
  distiller.to(c.device);
  distiller.train();
  const dist = inputs.distributed;
  const lead = !dist || dist.isLead;
  if (dist && c.syncBn) convertSyncBatchNorm(student, dist);

  const runDir = c.out;
  const resolved = { ...c, lr, lossWeight };
  const recordPath = join(runDir, CONFIG_FILE);
  if (existsSync(join(runDir, CHECKPOINT_FILE)) && existsSync(recordPath))
    checkResumable(
      JSON.parse(readFileSync(recordPath, "utf8")),
      resolved,
      recordPath,
      MAY_CHANGE_ON_RESUME,
    );
  if (dist) {
    // The same settings everywhere (where data lives and how fast it loads may differ), and
    // every rank has read the old record before rank 0 replaces it.
    const { workers, device, ...shared } = resolved;
    dist.checkSame("distill settings", JSON.stringify(shared));
    dist.barrier();
  }
  if (lead) {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(recordPath, `${JSON.stringify(resolved, null, 2)}\n`);
  }

  const loader = new DataLoader(inputs.train, {
    ...shardOptions(dist, c.batchSize),
    transform: inputs.trainTransform,
    shuffle: true,
    seed: c.seed,
    dropLast: inputs.train.length >= c.batchSize,
    numWorkers: c.workers,
    labelDtype: "int64",
  });
  const optimizer = new SGD(distiller.parameters(), {
    lr,
    momentum: c.momentum,
    weightDecay: c.weightDecay,
  });
  const scheduler = new LRScheduler(optimizer.paramGroups, {
    kind: "step",
    stepSize: c.lrStep,
    gamma: c.lrGamma,
  });
  // `stop` ends the pass early (Ctrl-C during the initial pass, before train() listens).
  const evaluate = async (stop?: StopSignal): Promise<Record<string, number>> => {
    if (!inputs.val) return {};
    distiller.eval();
    const valLoader = new DataLoader(inputs.val, {
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
    return { val_loss: sum / Math.max(1, n) };
  };

  const studentPath = join(runDir, STUDENT_FILE);
  if (lead) removeStaleTemps(studentPath);
  // The starting point of the validation curve, once per run (not again on resume).
  let initialValLoss: number | null = null;
  if (inputs.val && c.valEvery > 0 && !existsSync(join(runDir, CHECKPOINT_FILE))) {
    const stop = new StopSignal("stopping the initial validation pass (nothing trained yet)");
    try {
      const { val_loss } = await evaluate(stop);
      if (!stop.requested) initialValLoss = val_loss;
    } finally {
      stop.dispose();
    }
    if (initialValLoss === null) {
      await loader.close();
      const nothing = { epochsDone: 0, stepInEpoch: 0, seconds: 0, lastEval: null, history: [] };
      return {
        ...nothing,
        stopped: true,
        runDir,
        studentPath,
        student,
        lossWeight,
        lr,
        initialValLoss,
      };
    }
    if (lead)
      new RunLog(runDir, { tensorboard: false }).log("distill/initial", {
        val_loss: initialValLoss,
      });
  }
  let result: TrainResult;
  try {
    result = await train({
      name: "distill",
      runDir,
      epochs: c.epochs,
      stepsPerEpoch: loader.batchesPerEpoch,
      batches: (e, start) => loader.epoch(e, undefined, start),
      batchSize: (b) => b.shape[0],
      trainStep: (b) =>
        tidy(() => {
          const { images, labels } = toTensors(b, c.device);
          return distiller.step(images, labels, optimizer, c.microBatch);
        }),
      optimizer,
      scheduler,
      scheduleUnit: "epoch",
      evaluate: () => evaluate(),
      evalEvery: c.valEvery,
      state: () =>
        ({ model: student.stateDict(), align: align.stateDict() }) as Record<
          string,
          CheckpointValue
        >,
      restore: (s) => {
        student.loadStateDict(s.model as Map<string, Tensor>);
        align.loadStateDict(s.align as Map<string, Tensor>);
      },
      afterEpoch: () => saveStateDict(studentPath, student.stateDict()),
      checkpointEvery: c.checkpointEvery,
      progress: inputs.progress,
      stopAfterSteps: inputs.stopAfterSteps,
      distributed: dist,
    });
  } finally {
    await loader.close();
  }
  return { ...result, runDir, studentPath, student, lossWeight, lr, initialValLoss };
}
