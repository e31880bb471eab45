// What each pre-trained student knows of the upstream classes: a linear probe (a new head on
// the frozen backbone) trained on the 10% subset and tested on the upstream test split. A
// probe, not each student's own head, because KDEP and feature-KD students have no head and
// the supervised heads were trained on different amounts of data: one protocol for all.
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { balancedSubset } from "../../data/datasets/select.js";
import type { Backbone } from "../../models/backbone.js";
import { loadWeightsInto } from "../../models/weights.js";
import { runClassification } from "../transfer/classify.js";
import { TransferConfigSchema } from "../transfer/classifyConfig.js";
import type { Pretrained } from "./pretrain.js";
import { type DemoSettings, testTransform, transferTrainTransform } from "./settings.js";

export interface UpstreamContext {
  s: DemoSettings;
  runs: string;
  subset: Dataset;
  upstreamTest: Dataset;
  student: (numClasses: number) => Backbone;
  progress: "auto" | "bar" | "lines" | "quiet";
  log: (line: string) => void;
}

export function upstreamMeasure(s: DemoSettings): string {
  return `linear probe (features standardised by a BatchNorm without affine, then a linear head) on the frozen backbone: trained on the ${Math.round(s.subsetFraction * 100)}% subset (${s.upstreamProbe.epochs} epochs), tested on ${s.upstreamProbe.testPerClass} upstream test images per class; the teacher: its own supervised head on the whole upstream test split`;
}

/** Upstream top-1 % of each pre-trained backbone, by id. */
export async function upstreamProbes(
  x: UpstreamContext,
  pre: Pretrained[],
): Promise<Map<string, number>> {
  const { s } = x;
  const u = s.upstreamProbe;
  const test = balancedSubset(x.upstreamTest, u.testPerClass, 2, "upstream probe test");
  const out = new Map<string, number>();
  for (const p of pre) {
    const config = TransferConfigSchema.parse({
      backbone: s.student.arch,
      dataset: "fashion-mnist",
      mode: "linear-probe",
      probeNorm: true,
      epochs: u.epochs,
      batchSize: u.batchSize,
      lr: u.lr,
      lrStep: Math.max(1, Math.round((u.epochs * 3) / 4)),
      evalEvery: u.epochs,
      imageSize: s.imageSize,
      resize: s.imageSize,
      seed: 0,
      workers: 0,
      out: join(x.runs, `upstream-probe-${p.id}`),
    });
    const r = await runClassification({
      config,
      createBackbone: () => {
        const backbone = x.student(0);
        if (p.weights) loadWeightsInto(backbone, p.weights, { strict: false });
        return backbone;
      },
      numClasses: x.subset.classes.length,
      train: x.subset,
      test,
      trainTransform: transferTrainTransform(s.imageSize),
      testTransform: testTransform(s.imageSize),
      progress: x.progress,
    });
    out.set(p.id, r.finalTop1);
    x.log(`${p.label} (${p.data}): upstream linear-probe top-1 ${r.finalTop1.toFixed(2)}`);
  }
  return out;
}
