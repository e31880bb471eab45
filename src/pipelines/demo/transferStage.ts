// The demo's transfer stage: every pre-trained backbone fine-tuned on the held-out classes
// with few labels, once per seed (a new labelled draw each seed), top-1 on their test set.
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { balancedSubset } from "../../data/datasets/select.js";
import type { Backbone } from "../../models/backbone.js";
import { loadWeightsInto } from "../../models/weights.js";
import { runClassification } from "../transfer/classify.js";
import { TransferConfigSchema } from "../transfer/classifyConfig.js";
import type { Pretrained } from "./pretrain.js";
import type { MethodResult } from "./result.js";
import {
  type DemoSettings,
  DOWNSTREAM,
  testTransform,
  transferTrainTransform,
} from "./settings.js";

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

/** Downstream top-1 of one pre-trained backbone for one seed. */
async function transferOnce(x: TransferContext, p: Pretrained, seed: number): Promise<number> {
  const { s } = x;
  const labelled = balancedSubset(
    x.downPool,
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
    imageSize: s.imageSize,
    resize: s.imageSize,
    seed,
    workers: 0,
    out: join(x.runs, `transfer-${p.id}-seed${seed}`),
  });
  const r = await runClassification({
    config,
    createBackbone: () => {
      const backbone = x.student(0);
      if (p.weights) loadWeightsInto(backbone, p.weights, { strict: false });
      return backbone;
    },
    numClasses: DOWNSTREAM.length,
    train: labelled,
    test: x.downTest,
    trainTransform: transferTrainTransform(s.imageSize),
    testTransform: testTransform(s.imageSize),
    progress: x.progress,
  });
  return r.finalTop1;
}

/** Each method's downstream accuracies over the seeds, with their mean and sample std. */
export async function transferAll(x: TransferContext, pre: Pretrained[]): Promise<MethodResult[]> {
  const methods: MethodResult[] = [];
  for (const p of pre) {
    const accs: number[] = [];
    for (const seed of x.seeds) accs.push(await transferOnce(x, p, seed));
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
    x.log(`${p.label} (${p.data}): downstream top-1 ${accs.map((a) => a.toFixed(2)).join(", ")}`);
  }
  return methods;
}
