// The demo's transfer stage: every pre-trained backbone fine-tuned, and linear-probed, on
// the held-out classes with few labels, once per seed. Seed k draws the same labelled images
// and the same training order for every method, so methods can be compared seed by seed.
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { balancedSubset } from "../../data/datasets/select.js";
import type { Backbone } from "../../models/backbone.js";
import { loadWeightsInto } from "../../models/weights.js";
import { runClassification } from "../transfer/classify.js";
import { TransferConfigSchema } from "../transfer/classifyConfig.js";
import type { Pretrained } from "./pretrain.js";
import type { MethodResult, SeedRuns } from "./result.js";
import { type DemoSettings, testTransform, transferTrainTransform } from "./settings.js";

export interface TransferContext {
  s: DemoSettings;
  runs: string;
  seeds: number[];
  downPool: Dataset;
  downTest: Dataset;
  student: (numClasses: number) => Backbone;
  progress: "auto" | "bar" | "lines" | "quiet";
  log: (line: string) => void;
}

type Protocol = "finetune" | "linear-probe";

/** Downstream top-1 of one pre-trained backbone for one seed under one protocol. */
async function transferOnce(
  x: TransferContext,
  p: Pretrained,
  seed: number,
  mode: Protocol,
): Promise<number> {
  const { s } = x;
  const cfg = mode === "finetune" ? s.transfer : { ...s.probe, evalEvery: s.probe.epochs };
  const labelled = balancedSubset(
    x.downPool,
    s.transfer.perClass,
    100 + seed,
    `downstream ${s.transfer.perClass}/class`,
  );
  const config = TransferConfigSchema.parse({
    backbone: s.student.arch,
    dataset: "fashion-mnist",
    mode,
    probeNorm: mode === "linear-probe",
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    lrStep: Math.max(1, Math.round((cfg.epochs * 3) / 4)),
    evalEvery: cfg.evalEvery,
    imageSize: s.imageSize,
    resize: s.imageSize,
    seed,
    workers: 0,
    out: join(x.runs, `${mode === "finetune" ? "transfer" : "probe"}-${p.id}-seed${seed}`),
  });
  const r = await runClassification({
    config,
    createBackbone: () => {
      const backbone = x.student(0);
      if (p.weights) loadWeightsInto(backbone, p.weights, { strict: false });
      return backbone;
    },
    numClasses: x.downTest.classes.length,
    train: labelled,
    test: x.downTest,
    trainTransform: transferTrainTransform(s.imageSize),
    testTransform: testTransform(s.imageSize),
    progress: x.progress,
  });
  return r.finalTop1;
}

/** Mean and sample std (n − 1) of per-seed accuracies. */
export function seedRuns(runs: number[]): SeedRuns {
  const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
  const std = Math.sqrt(
    runs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, runs.length - 1),
  );
  return { runs, mean, spread: std };
}

/** Each method fine-tuned and linear-probed over the seeds. */
export async function transferAll(x: TransferContext, pre: Pretrained[]): Promise<MethodResult[]> {
  const methods: MethodResult[] = [];
  for (const p of pre) {
    const ft: number[] = [];
    const lp: number[] = [];
    for (const seed of x.seeds) {
      ft.push(await transferOnce(x, p, seed, "finetune"));
      lp.push(await transferOnce(x, p, seed, "linear-probe"));
    }
    methods.push({
      id: p.id,
      label: p.label,
      data: p.data,
      pretrainSeconds: p.seconds,
      downstream: seedRuns(ft),
      probe: seedRuns(lp),
      curve: p.curve,
    });
    const list = (a: number[]) => a.map((v) => v.toFixed(2)).join(", ");
    x.log(`${p.label} (${p.data}): fine-tuned top-1 ${list(ft)}; linear probe ${list(lp)}`);
  }
  return methods;
}
