// `kdep demo`: KDEP's claim in miniature on real offline data. Teacher (cached) → SVD on
// 10% of upstream → distilled student, against random init, supervised 10%, supervised
// 100%, logit KD and parametric (linear) feature KD; each transferred to held-out classes
// with few labels over several seeds, and fine-tuned for segmentation and detection on
// canvases of those classes; a report folder with tables and charts.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { fashionMnist } from "../../data/datasets/idx.js";
import { balancedSubset, subsetByClasses } from "../../data/datasets/select.js";
import { createModel } from "../../models/registry.js";
import { native } from "../../native/binding.js";
import { getNumThreads } from "../../tensor/index.js";
import type { SvdBasis } from "../kdep/alignment.js";
import { runSvd } from "../kdep/svdPass.js";
import { denseAll } from "./denseStage.js";
import { denseTasks } from "./denseTasks.js";
import { comparisons, findings, TEST_NAME } from "./findings.js";
import { pretrainAll } from "./pretrain.js";
import type { DemoReport, DenseTaskResult, MethodResult } from "./result.js";
import { type DemoSettings, FULL, pretrainTransform, QUICK } from "./settings.js";
import { classNames, DEFAULT_SPLIT, type DemoSplit, splitName, validateSplit } from "./split.js";
import { demoTeacher, type TeacherInfo } from "./teacher.js";
import { transferAll } from "./transferStage.js";
import { upstreamMeasure, upstreamProbes } from "./upstreamStage.js";

/** Options of {@link runDemo} (`kdep demo`). */
export interface DemoOptions {
  quick?: boolean;
  out: string;
  fmnistDir?: string;
  seeds?: number[];
  /** Class indices 0–9; default: clothes upstream, shoes and bags downstream. */
  split?: DemoSplit;
  progress?: "auto" | "bar" | "lines" | "quiet";
  log?: (line: string) => void;
}

type Progress = NonNullable<DemoOptions["progress"]>;

/** `kdep demo`: KDEP against its baselines in miniature on Fashion-MNIST, with a report. */
export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const s: DemoSettings = o.quick ? QUICK : FULL;
  const seeds = o.seeds ?? s.seeds;
  const split = validateSplit(o.split ?? DEFAULT_SPLIT);
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const progress = o.progress ?? "auto";
  const started = Date.now();
  const runs = join(o.out, "runs");
  const student = (numClasses: number) =>
    createModel(s.student.arch, { numClasses, width: s.width });

  const fmnistDir = o.fmnistDir ?? process.env.KDEP_FMNIST ?? "/usr/share/datasets/fashion-mnist";
  // Each stage's start, with the time elapsed so far: the stages' times from one log.
  const stage = (what: string) =>
    log(`${what} (at ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const data = await demoData(s, split, fmnistDir);
  log(
    `demo (${s.mode}, ${splitName(split)}): upstream ${data.upstream.length} images of ${split.upstream.length} classes, subset ${data.subset.length}; downstream ${split.downstream.length} classes, ${s.transfer.perClass} labels each; seeds ${seeds.join(", ")}`,
  );
  stage("1/6 teacher");
  const teacher = await demoTeacher(s, data.upstream, data.upstreamTest, progress);
  log(
    `teacher ${teacher.id}: upstream test top-1 ${teacher.accuracy.toFixed(2)}%${teacher.cached ? " (cached)" : ""}`,
  );
  stage("2/6 SVD of the teacher's features on the 10% subset");
  const svd = await svdStage(s, teacher, data.subset, runs, progress);
  stage("3/6 pre-training the students");
  const pre = await pretrainAll({
    ...data,
    s,
    runs,
    teacher: teacher.model,
    svd: svd.basis,
    svdSeconds: svd.seconds,
    student,
    progress,
    log,
  });
  stage("4/6 upstream linear probes");
  const upstream = await upstreamProbes({ ...data, s, runs, student, progress, log }, pre);
  stage("5/6 transfer to the held-out classes (fine-tune and linear probe)");
  const transferred = await transferAll({ ...data, s, runs, seeds, student, progress, log }, pre);
  const methods = transferred.map((m) => ({ ...m, upstream: upstream.get(m.id) }));
  stage("6/6 segmentation and detection on canvases of the held-out classes");
  const tasks = await denseTasks(s, split, fmnistDir, runs);
  const dense = await denseAll({ s, runs, seeds, tasks, progress, log }, pre);
  stage("done");
  return demoReport(s, { data, split, teacher, seeds, methods, dense, runs, started });
}

interface DemoData {
  /** Upstream classes (capped per class in quick mode) and their test images. */
  upstream: Dataset;
  upstreamTest: Dataset;
  /** The 10% of upstream that KDEP and the 10% baselines pre-train on. */
  subset: Dataset;
  /** Held-out classes: the labelled pool each seed draws from, and the test set. */
  downPool: Dataset;
  downTest: Dataset;
}

/** Upstream and downstream tasks are disjoint sets of Fashion-MNIST classes. */
async function demoData(s: DemoSettings, split: DemoSplit, dir: string): Promise<DemoData> {
  const UPSTREAM = classNames(split.upstream);
  const DOWNSTREAM = classNames(split.downstream);
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
  return { upstream, upstreamTest, subset, downPool, downTest };
}

/** The teacher's feature SVD on the subset; its time counts towards KDEP's. */
async function svdStage(
  s: DemoSettings,
  teacher: TeacherInfo,
  subset: Dataset,
  runs: string,
  progress: Progress,
): Promise<{ basis: SvdBasis; seconds: number }> {
  const t0 = Date.now();
  const svd = await runSvd({
    teacher: teacher.model,
    teacherId: teacher.id,
    data: subset,
    transform: pretrainTransform(s.imageSize),
    out: join(runs, "svd"),
    batchSize: 256,
    workers: 0,
    progress,
  });
  if (!svd.result) throw new Error("SVD pass stopped early");
  return {
    basis: { V: svd.result.V, mean: svd.result.mean },
    seconds: (Date.now() - t0) / 1000,
  };
}

/** Every number of the report, with the machine and the settings it ran with. */
function demoReport(
  s: DemoSettings,
  r: {
    data: DemoData;
    split: DemoSplit;
    teacher: TeacherInfo;
    seeds: number[];
    methods: MethodResult[];
    dense: DenseTaskResult[];
    runs: string;
    started: number;
  },
): DemoReport {
  const { data, teacher, methods, dense } = r;
  return {
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
      upstreamClasses: classNames(r.split.upstream),
      downstreamClasses: classNames(r.split.downstream),
      split: splitName(r.split),
      upstreamMeasure: upstreamMeasure(s),
      test: { name: TEST_NAME, level: 0.95 },
      upstreamImages: data.upstream.length,
      subsetImages: data.subset.length,
      subsetFraction: s.subsetFraction,
      downstreamTrainPerClass: s.transfer.perClass,
      downstreamTestImages: data.downTest.length,
      imageSize: s.imageSize,
      teacher: {
        arch: s.teacher.arch,
        width: s.width,
        accuracy: teacher.accuracy,
        seconds: teacher.seconds,
        cached: teacher.cached,
      },
      student: { arch: s.student.arch, width: s.width },
      seeds: r.seeds,
      spreadKind: "std",
      epochs: {
        teacher: s.teacher.epochs,
        distillation: s.distill.epochs,
        "supervised 10%": s.sup10.epochs,
        "supervised 100%": s.sup100.epochs,
        "fine-tune": s.transfer.epochs,
        "linear probe": s.probe.epochs,
        "upstream probe": s.upstreamProbe.epochs,
      },
    },
    methods,
    dense,
    comparisons: comparisons(methods, 0.95, dense),
    findings: findings(methods, 0.95, dense),
    totalSeconds: (Date.now() - r.started) / 1000,
    runsDir: r.runs,
  };
}
