// KDEP distillation (kdep-method.md §2–§5): a frozen teacher's pooled pre-ReLU feature,
// aligned by SVD (or a baseline), becomes the regression target of a randomly initialised
// student's pooled pre-ReLU feature. The student alone is exported after every epoch.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DataLoader } from "../../data/loader.js";
import type { Dataset } from "../../data/datasets/dataset.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { saveStateDict } from "../../io/tensors.js";
import { createModel } from "../../models/registry.js";
import type { Backbone } from "../../models/backbone.js";
import { F, Module } from "../../nn/index.js";
import { LRScheduler, SGD } from "../../optim/index.js";
import { manualSeed, noGrad, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { type TrainResult, train } from "../common/trainLoop.js";
import {
  type Alignment,
  IdentityAlignment,
  LinearAlignment,
  LogitAlignment,
  logitKd,
  type StudentOut,
  type SvdBasis,
  SvdAlignment,
  type TeacherOut,
} from "./alignment.js";
import { type DistillConfig, defaultLossWeight, defaultLr } from "./distillConfig.js";

export interface DistillInputs {
  config: DistillConfig;
  teacher: Backbone;
  train: Dataset;
  trainTransform: TransformStep[];
  val?: Dataset;
  valTransform?: TransformStep[];
  /** Required for align "svd". */
  svd?: SvdBasis;
  /** A prebuilt student (e.g. narrower widths); default: createModel(config.student). */
  student?: Backbone;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (with a checkpoint) after this many steps. */
  stopAfterSteps?: number;
}

export interface DistillResult extends TrainResult {
  runDir: string;
  studentPath: string;
  student: Backbone;
  lossWeight: number;
  lr: number;
}

export const STUDENT_FILE = "student.pth";

function buildAlignment(c: DistillConfig, inputs: DistillInputs, student: Backbone, w: number): Alignment {
  const ptsOpts = c.pts ? { temperature: c.ptsTemperature, power: c.ptsPower } : null;
  switch (c.align) {
    case "svd":
      if (!inputs.svd) throw new Error('align "svd" needs the SVD of the teacher: run `kdep svd` first');
      return new SvdAlignment(inputs.svd, student.featureDim, w, ptsOpts);
    case "linear":
      return new LinearAlignment(student.featureDim, inputs.teacher.featureDim, w, ptsOpts);
    case "none":
      return new IdentityAlignment(w, ptsOpts);
    case "logits":
      return new LogitAlignment(w, c.kdTemperature);
  }
}

/** Teacher forward without grad: pooled pre-ReLU feature (and logits when needed). */
function teacherOut(teacher: Backbone, x: Tensor, logits: boolean): TeacherOut {
  return noGrad(() => {
    const map = teacher.forwardFeatures(x);
    const feature = teacher.forwardHead(map, { preLogits: true });
    return logits ? { feature, logits: teacher.forwardHead(map) } : { feature };
  });
}

function studentOut(student: Backbone, x: Tensor, logits: boolean): StudentOut {
  const map = student.forwardFeatures(x);
  const feature = student.forwardHead(map, { preLogits: true });
  return logits ? { feature, logits: student.forwardHead(map) } : { feature };
}

export async function runDistill(inputs: DistillInputs): Promise<DistillResult> {
  const c = inputs.config;
  const lr = c.lr ?? defaultLr(c.student);
  const lossWeight = c.lossWeight ?? defaultLossWeight(c.teacherWeights);
  const needLogits = c.align === "logits" || c.logitWeight > 0 || c.ceWeight > 0;
  manualSeed(c.seed);

  const teacher = inputs.teacher;
  teacher.preReluFeature = true;
  teacher.eval().requiresGrad_(false);
  if (needLogits && teacher.numClasses === 0) {
    throw new Error("Logit terms need a teacher with a classifier head");
  }
  // The student carries a head only when a loss reads its logits (the final method does not).
  const student =
    inputs.student ??
    createModel(c.student, { numClasses: needLogits ? teacher.numClasses : 0, preReluFeature: true });
  student.preReluFeature = true;
  const align = buildAlignment(c, inputs, student, lossWeight);
  const trained = new Module();
  trained.registerModule("student", student);
  trained.registerModule("align", align);
  trained.train();

  const runDir = c.out;
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, "config.json"), `${JSON.stringify({ ...c, lr, lossWeight }, null, 2)}\n`);

  const micro = Math.min(c.microBatch ?? c.batchSize, c.batchSize);
  const loader = new DataLoader(inputs.train, {
    batchSize: c.batchSize,
    transform: inputs.trainTransform,
    shuffle: true,
    seed: c.seed,
    dropLast: inputs.train.length >= c.batchSize,
    numWorkers: c.workers,
    labelDtype: "int64",
  });
  const optimizer = new SGD(trained.parameters(), {
    lr,
    momentum: c.momentum,
    weightDecay: c.weightDecay,
  });
  const scheduler = new LRScheduler(optimizer.paramGroups, { kind: "step", stepSize: c.lrStep, gamma: c.lrGamma });
  const prep = (x: Tensor) => (c.channelsLast ? x.channelsLast() : x);

  const lossTerms = (s: StudentOut, t: TeacherOut, labels: Tensor): Record<string, Tensor> => {
    const terms = align.losses(s, t);
    if (c.logitWeight > 0 && c.align !== "logits") terms.logits = logitKd(s.logits!, t.logits!, c.kdTemperature).mul(c.logitWeight);
    if (c.ceWeight > 0) terms.ce = F.crossEntropy(s.logits!, labels).mul(c.ceWeight);
    return terms;
  };

  const evaluate = async (): Promise<Record<string, number>> => {
    if (!inputs.val) return {};
    trained.eval();
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
        sum += tidy(() =>
          noGrad(() => {
            const { images, labels, size } = toTensors(b, c.device);
            const x = prep(images);
            const terms = lossTerms(studentOut(student, x, needLogits), teacherOut(teacher, x, needLogits), labels);
            return Object.values(terms).reduce((a, t) => a + t.item(), 0) * size;
          }),
        );
        n += b.shape[0];
      }
    } finally {
      await valLoader.close();
      trained.train();
    }
    return { val_loss: sum / Math.max(1, n) };
  };

  const studentPath = join(runDir, STUDENT_FILE);
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
          const chunks = micro < images.size(0) ? images.split(micro) : [images];
          const labelChunks = micro < images.size(0) ? labels.split(micro) : [labels];
          const sums: Record<string, number> = {};
          optimizer.zeroGrad();
          chunks.forEach((chunk, i) => {
            tidy(() => {
              const x = prep(chunk);
              const terms = lossTerms(studentOut(student, x, needLogits), teacherOut(teacher, x, needLogits), labelChunks[i]);
              const total = Object.values(terms).reduce((a, t) => a.add(t));
              total.div(chunks.length).backward();
              for (const [k, t] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + t.item() / chunks.length;
            });
          });
          optimizer.step();
          return sums;
        }),
      optimizer,
      scheduler,
      scheduleUnit: "epoch",
      evaluate,
      evalEvery: c.valEvery,
      state: () => ({ model: student.stateDict(), align: align.stateDict() }) as Record<string, CheckpointValue>,
      restore: (s) => {
        student.loadStateDict(s.model as Map<string, Tensor>);
        align.loadStateDict(s.align as Map<string, Tensor>);
      },
      afterEpoch: () => saveStateDict(studentPath, student.stateDict()),
      checkpointEvery: c.checkpointEvery,
      progress: inputs.progress,
      stopAfterSteps: inputs.stopAfterSteps,
    });
  } finally {
    await loader.close();
  }
  return { ...result, runDir, studentPath, student, lossWeight, lr };
}
