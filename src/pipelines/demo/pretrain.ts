// The demo's pre-training stage: from the same teacher and data, KDEP and each baseline
// produce a backbone (or none, for random init) with its time and loss curve.
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { balancedSubset } from "../../data/datasets/select.js";
import type { Backbone } from "../../models/backbone.js";
import type { SvdBasis } from "../kdep/alignment.js";
import { runDistill } from "../kdep/distill.js";
import { DistillConfigSchema } from "../kdep/distillConfig.js";
import { runSupervised } from "../supervised/supervised.js";
import type { MethodResult } from "./result.js";
import { type DemoSettings, pretrainTransform, testTransform } from "./settings.js";

export interface Pretrained {
  id: string;
  label: string;
  data: string;
  seconds: number;
  weights: string | null;
  curve?: MethodResult["curve"];
}

export interface PretrainContext {
  s: DemoSettings;
  runs: string;
  teacher: Backbone;
  upstream: Dataset;
  upstreamTest: Dataset;
  subset: Dataset;
  svd: SvdBasis;
  svdSeconds: number;
  student: (numClasses: number) => Backbone;
  progress: "auto" | "bar" | "lines" | "quiet";
  log: (line: string) => void;
}

export const curveOf = (
  history: Array<Record<string, number>>,
  lossName: string,
  initialVal?: number | null,
): MethodResult["curve"] => {
  const epoch = history.map((h) => h.epoch);
  const trainLoss = history.map((h) => h[lossName] ?? Number.NaN);
  const val = history.map((h) => h.val_loss ?? Number.NaN);
  const hasVal = val.some((v) => Number.isFinite(v));
  if (hasVal && initialVal != null) {
    return {
      epoch: [0, ...epoch],
      trainLoss: [Number.NaN, ...trainLoss],
      valLoss: [initialVal, ...val],
      lossName,
    };
  }
  return { epoch, trainLoss, lossName, ...(hasVal ? { valLoss: val } : {}) };
};

/** A distilled student: KDEP (svd), logit KD or parametric feature KD (linear). */
async function distilled(
  x: PretrainContext,
  id: string,
  label: string,
  align: "svd" | "logits" | "linear",
): Promise<Pretrained> {
  const { s, upstreamTest } = x;
  const config = DistillConfigSchema.parse({
    teacher: s.teacher.arch,
    student: s.student.arch,
    align,
    pts: align === "svd",
    epochs: s.distill.epochs,
    batchSize: s.distill.batchSize,
    lr: s.distill.lr,
    lrStep: Math.max(1, Math.round((s.distill.epochs * 2) / 3)),
    imageSize: s.imageSize,
    valEvery: Math.max(1, Math.round(s.distill.epochs / 4)),
    workers: 0,
    out: join(x.runs, id),
  });
  const r = await runDistill({
    config,
    teacher: x.teacher,
    student: () => x.student(align === "logits" ? x.upstream.classes.length : 0),
    train: x.subset,
    trainTransform: pretrainTransform(s.imageSize),
    val: upstreamTest.length > 2000 ? balancedSubset(upstreamTest, 200, 1) : upstreamTest,
    valTransform: testTransform(s.imageSize),
    svd: align === "svd" ? x.svd : undefined,
    progress: x.progress,
  });
  const seconds = r.seconds + (align === "svd" ? x.svdSeconds : 0);
  const lossName = align === "logits" ? "logits" : "feature";
  x.log(`${label}: ${seconds.toFixed(0)} s`);
  return {
    id,
    label,
    data: "10%",
    seconds,
    weights: r.studentPath,
    curve: curveOf(r.history, lossName, r.initialValLoss),
  };
}

/** A supervised (cross-entropy) pre-training on `data`. */
async function supervised(
  x: PretrainContext,
  id: string,
  data: Dataset,
  cfg: DemoSettings["sup10"],
  share: string,
): Promise<Pretrained> {
  const r = await runSupervised({
    createModel: () => x.student(x.upstream.classes.length),
    train: data,
    trainTransform: pretrainTransform(x.s.imageSize),
    out: join(x.runs, id),
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    // In-memory 28-px images load in microseconds: on 2 cores a loader thread would only
    // steal time from libtorch's OpenMP threads.
    workers: 0,
    progress: x.progress,
  });
  x.log(`Supervised: ${r.seconds.toFixed(0)} s`);
  return {
    id,
    label: "Supervised",
    data: share,
    seconds: r.seconds,
    weights: r.weightsPath,
    curve: curveOf(r.history, "ce"),
  };
}

/** Random init, then KDEP and the baselines, in the order the report lists them. */
export async function pretrainAll(x: PretrainContext): Promise<Pretrained[]> {
  const pre: Pretrained[] = [
    { id: "random", label: "Random init", data: "—", seconds: 0, weights: null },
  ];
  pre.push(await distilled(x, "kdep", "KDEP (SVD + PTS)", "svd"));
  pre.push(await supervised(x, "sup10", x.subset, x.s.sup10, "10%"));
  pre.push(await supervised(x, "sup100", x.upstream, x.s.sup100, "100%"));
  pre.push(await distilled(x, "logitkd", "Logit KD", "logits"));
  pre.push(await distilled(x, "linear", "Feature KD (linear + BN)", "linear"));
  return pre;
}
