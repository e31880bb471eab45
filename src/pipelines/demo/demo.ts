// `kdep demo`: KDEP's claim in miniature on real offline data. Teacher (cached) → SVD on
// 10% of upstream → distilled student, against random init, supervised 10%, supervised
// 100%, logit KD and parametric (linear) feature KD; each transferred to held-out classes
// with few labels over several seeds; a report folder with tables and charts.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { fashionMnist } from "../../data/datasets/idx.js";
import { balancedSubset, subsetByClasses } from "../../data/datasets/select.js";
import { createModel } from "../../models/registry.js";
import { loadWeightsInto } from "../../models/weights.js";
import { native } from "../../native/binding.js";
import { getNumThreads } from "../../tensor/index.js";
import { runDistill } from "../kdep/distill.js";
import { DistillConfigSchema } from "../kdep/distillConfig.js";
import { runSvd } from "../kdep/svdPass.js";
import type { DemoReport, MethodResult } from "../report/types.js";
import { runSupervised } from "../supervised/supervised.js";
import { runClassification } from "../transfer/classify.js";
import { TransferConfigSchema } from "../transfer/classifyConfig.js";
import { findings } from "./findings.js";
import {
  type DemoSettings,
  DOWNSTREAM,
  FULL,
  pretrainTransform,
  QUICK,
  testTransform,
  transferTrainTransform,
  UPSTREAM,
} from "./settings.js";
import { demoTeacher } from "./teacher.js";

/** Options of {@link runDemo} (`kdep demo`). */
export interface DemoOptions {
  quick?: boolean;
  out: string;
  fmnistDir?: string;
  seeds?: number[];
  progress?: "auto" | "bar" | "lines" | "quiet";
  log?: (line: string) => void;
}

interface Pretrained {
  id: string;
  label: string;
  data: string;
  seconds: number;
  weights: string | null;
  curve?: MethodResult["curve"];
}

const curveOf = (
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

/** `kdep demo`: KDEP against its baselines in miniature on Fashion-MNIST, with a report. */
export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const s: DemoSettings = o.quick ? QUICK : FULL;
  const seeds = o.seeds ?? s.seeds;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const progress = o.progress ?? "auto";
  const started = Date.now();
  const runs = join(o.out, "runs");
  const dir = o.fmnistDir ?? process.env.KDEP_FMNIST ?? "/usr/share/datasets/fashion-mnist";

  // Data: upstream and downstream tasks are disjoint sets of classes.
  const train = await fashionMnist(dir, "train");
  const test = await fashionMnist(dir, "test");
  let upstream = subsetByClasses(train, UPSTREAM, "fashion-mnist upstream");
  if (s.upstreamPerClass)
    upstream = balancedSubset(upstream, s.upstreamPerClass, 0, "fashion-mnist upstream");
  const upstreamTest = subsetByClasses(test, UPSTREAM, "fashion-mnist upstream test");
  const subset = balancedSubset(
    upstream,
    Math.round((upstream.length / UPSTREAM.length) * s.subsetFraction),
    0,
    "fashion-mnist upstream 10%",
  );
  const downPool = subsetByClasses(train, DOWNSTREAM, "fashion-mnist downstream");
  let downTest = subsetByClasses(test, DOWNSTREAM, "fashion-mnist downstream test");
  if (s.transfer.testPerClass) downTest = balancedSubset(downTest, s.transfer.testPerClass, 0);
  const size = s.imageSize;
  const student = (numClasses: number) =>
    createModel(s.student.arch, { numClasses, width: s.width });

  log(
    `demo (${s.mode}): upstream ${upstream.length} images of ${UPSTREAM.length} classes, subset ${subset.length}; downstream ${DOWNSTREAM.length} classes, ${s.transfer.perClass} labels each`,
  );
  log("1/4 teacher");
  const teacher = await demoTeacher(s, upstream, upstreamTest, progress);
  log(
    `teacher ${teacher.id}: upstream test top-1 ${teacher.accuracy.toFixed(2)}%${teacher.cached ? " (cached)" : ""}`,
  );

  log("2/4 SVD of the teacher's features on the 10% subset");
  const t0 = Date.now();
  const svd = await runSvd({
    teacher: teacher.model,
    teacherId: teacher.id,
    data: subset,
    transform: pretrainTransform(size),
    out: join(runs, "svd"),
    batchSize: 256,
    workers: 0,
    progress,
  });
  const svdSeconds = (Date.now() - t0) / 1000;
  if (!svd.result) throw new Error("SVD pass stopped early");

  log("3/4 pre-training the students");
  const pre: Pretrained[] = [
    { id: "random", label: "Random init", data: "—", seconds: 0, weights: null },
  ];
  const distillVariant = async (id: string, label: string, align: "svd" | "logits" | "linear") => {
    const config = DistillConfigSchema.parse({
      teacher: s.teacher.arch,
      student: s.student.arch,
      align,
      pts: align === "svd",
      epochs: s.distill.epochs,
      batchSize: s.distill.batchSize,
      lr: s.distill.lr,
      lrStep: Math.max(1, Math.round((s.distill.epochs * 2) / 3)),
      imageSize: size,
      valEvery: Math.max(1, Math.round(s.distill.epochs / 4)),
      workers: 0,
      out: join(runs, id),
    });
    const r = await runDistill({
      config,
      teacher: teacher.model,
      student: () => student(align === "logits" ? UPSTREAM.length : 0),
      train: subset,
      trainTransform: pretrainTransform(size),
      val: upstreamTest.length > 2000 ? balancedSubset(upstreamTest, 200, 1) : upstreamTest,
      valTransform: testTransform(size),
      svd: align === "svd" ? { V: svd.result!.V, mean: svd.result!.mean } : undefined,
      progress,
    });
    const seconds = r.seconds + (align === "svd" ? svdSeconds : 0);
    const lossName = align === "logits" ? "logits" : "feature";
    pre.push({
      id,
      label,
      data: "10%",
      seconds,
      weights: r.studentPath,
      curve: curveOf(r.history, lossName, r.initialValLoss),
    });
    log(`${label}: ${seconds.toFixed(0)} s`);
  };
  const supervised = async (
    id: string,
    label: string,
    data: Dataset,
    cfg: DemoSettings["sup10"],
    share: string,
  ) => {
    const r = await runSupervised({
      createModel: () => student(UPSTREAM.length),
      train: data,
      trainTransform: pretrainTransform(size),
      out: join(runs, id),
      epochs: cfg.epochs,
      batchSize: cfg.batchSize,
      lr: cfg.lr,
      // In-memory 28-px images load in microseconds: on 2 cores a loader thread would only
      // steal time from libtorch's OpenMP threads.
      workers: 0,
      progress,
    });
    pre.push({
      id,
      label,
      data: share,
      seconds: r.seconds,
      weights: r.weightsPath,
      curve: curveOf(r.history, "ce"),
    });
    log(`${label}: ${r.seconds.toFixed(0)} s`);
  };
  await distillVariant("kdep", "KDEP (SVD + PTS)", "svd");
  await supervised("sup10", "Supervised", subset, s.sup10, "10%");
  await supervised("sup100", "Supervised", upstream, s.sup100, "100%");
  await distillVariant("logitkd", "Logit KD", "logits");
  await distillVariant("linear", "Feature KD (linear + BN)", "linear");

  log("4/4 transfer to the held-out classes");
  const methods: MethodResult[] = [];
  for (const p of pre) {
    const accs: number[] = [];
    for (const seed of seeds) {
      const labelled = balancedSubset(
        downPool,
        s.transfer.perClass,
        100 + seed,
        `downstream ${s.transfer.perClass}/class`,
      );
      const config = TransferConfigSchema.parse({
        backbone: s.student.arch,
        dataset: "fashion-mnist",
        epochs: s.transfer.epochs,
        batchSize: s.transfer.batchSize,
        lr: s.transfer.lr,
        lrStep: Math.max(1, Math.round((s.transfer.epochs * 3) / 4)),
        evalEvery: s.transfer.evalEvery,
        imageSize: size,
        resize: size,
        seed,
        workers: 0,
        out: join(runs, `transfer-${p.id}-seed${seed}`),
      });
      const r = await runClassification({
        config,
        createBackbone: () => {
          const backbone = student(0);
          if (p.weights) loadWeightsInto(backbone, p.weights, { strict: false });
          return backbone;
        },
        numClasses: DOWNSTREAM.length,
        train: labelled,
        test: downTest,
        trainTransform: transferTrainTransform(size),
        testTransform: testTransform(size),
        progress,
      });
      accs.push(r.finalTop1);
    }
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const std = Math.sqrt(
      accs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accs.length - 1),
    );
    methods.push({
      id: p.id,
      label: p.label,
      data: p.data,
      pretrainSeconds: p.seconds,
      downstream: { runs: accs, mean, spread: std },
      curve: p.curve,
    });
    log(`${p.label} (${p.data}): downstream top-1 ${accs.map((a) => a.toFixed(2)).join(", ")}`);
  }

  const report: DemoReport = {
    title: "KDEP in miniature: Fashion-MNIST",
    createdAt: new Date().toISOString(),
    mode: s.mode,
    machine: {
      cores: availableParallelism(),
      threads: getNumThreads(),
      libtorch: native.version().libtorch ?? "system libtorch",
      node: process.version,
    },
    setup: {
      dataset: "Fashion-MNIST (dataset-fashion-mnist)",
      upstreamClasses: UPSTREAM,
      downstreamClasses: DOWNSTREAM,
      upstreamImages: upstream.length,
      subsetImages: subset.length,
      subsetFraction: s.subsetFraction,
      downstreamTrainPerClass: s.transfer.perClass,
      downstreamTestImages: downTest.length,
      imageSize: size,
      teacher: {
        arch: s.teacher.arch,
        width: s.width,
        accuracy: teacher.accuracy,
        seconds: teacher.seconds,
        cached: teacher.cached,
      },
      student: { arch: s.student.arch, width: s.width },
      seeds,
      spreadKind: "std",
      epochs: {
        teacher: s.teacher.epochs,
        distillation: s.distill.epochs,
        "supervised 10%": s.sup10.epochs,
        "supervised 100%": s.sup100.epochs,
        transfer: s.transfer.epochs,
      },
    },
    methods,
    findings: findings(methods),
    totalSeconds: (Date.now() - started) / 1000,
    runsDir: runs,
  };
  return report;
}
