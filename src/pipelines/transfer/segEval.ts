// Evaluation over a whole val set: every image at full size through the sliding-window
// inference, one confusion matrix for the set; optionally image | truth | prediction PNGs of
// the first few images and the confusion matrix as CSV.
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { DataLoader } from "../../data/loader.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../data/transforms/pipeline.js";
import { segEvalTransform } from "../../data/transforms/segmentation.js";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import type { PSPNet } from "../../models/pspnet.js";
import { toTensors } from "../common/batches.js";
import { type SlidingOptions, slidingPredict } from "./segInfer.js";
import { ConfusionMatrix, perClassTable, type SegMetrics } from "./segMetrics.js";
import { writeLabelPng, writeTriptych } from "./segVis.js";

export interface SegEvalOptions extends SlidingOptions {
  workers?: number;
  device?: string;
  /** Folder for predictions/, confusion.csv and per_class.md; none written when absent. */
  outDir?: string;
  saveImages?: number;
  /** Also write every predicted label map as a one-channel PNG in predictions/labels/. */
  saveLabels?: boolean;
  mean?: number[];
  std?: number[];
  /** A line on stderr every 10 s while evaluating (whole val sets at full size take long). */
  progress?: boolean;
}

export async function evaluateSegmentation(
  model: PSPNet,
  data: Dataset,
  o: SegEvalOptions,
): Promise<{ metrics: SegMetrics; confusion: ConfusionMatrix }> {
  const mean = o.mean ?? IMAGENET_MEAN;
  const std = o.std ?? IMAGENET_STD;
  const loader = new DataLoader(data, {
    batchSize: 1,
    transform: segEvalTransform({ crop: null, mean, std }),
    numWorkers: o.workers ?? 2,
  });
  const cm = new ConfusionMatrix(model.numClasses);
  const wasTraining = model.training;
  const pics = o.outDir ? join(o.outDir, "predictions") : null;
  if (pics && (o.saveImages ?? 0) > 0) mkdirSync(pics, { recursive: true });
  const labels = pics && o.saveLabels ? join(pics, "labels") : null;
  if (labels) mkdirSync(labels, { recursive: true });
  let k = 0;
  const t0 = Date.now();
  let lastLine = t0;
  try {
    for await (const b of loader.epoch(0)) {
      const where = data.spec.masks?.[b.indices[0]] ?? `${data.spec.name}[${b.indices[0]}]`;
      const { images, masks } = toTensors(b, o.device);
      const pred = slidingPredict(model, images, o);
      const truth = masks!.squeeze(0);
      cm.add(pred, truth, where);
      if (pics && k < (o.saveImages ?? 0)) {
        await writeTriptych(
          join(pics, `${String(k).padStart(4, "0")}.png`),
          images,
          truth,
          pred,
          mean,
          std,
        );
      }
      if (labels) {
        const name = basename(where).replace(/\.[^.]+$/, "");
        await writeLabelPng(join(labels, `${name}.png`), pred);
      }
      for (const t of [images, masks!, pred, truth]) t.dispose();
      k++;
      if (o.progress && Date.now() - lastLine > 10_000) {
        lastLine = Date.now();
        const rate = k / ((lastLine - t0) / 1000);
        process.stderr.write(`seg eval ${k}/${data.length} images · ${rate.toFixed(2)} img/s\n`);
      }
    }
  } finally {
    await loader.close();
    model.train(wasTraining);
  }
  const metrics = cm.metrics();
  if (o.outDir) {
    const text = (s: string) => Buffer.from(s, "utf8");
    atomicWriteFile(join(o.outDir, "confusion.csv"), text(cm.toCsv(data.classes)));
    atomicWriteFile(join(o.outDir, "per_class.md"), text(perClassTable(data.classes, metrics)));
  }
  return { metrics, confusion: cm };
}
