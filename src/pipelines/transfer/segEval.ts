// Evaluation over a whole val set: every image at full size through the sliding-window
// inference, one confusion matrix for the set; optionally image | truth | prediction PNGs of
// the first few images and the confusion matrix as CSV. Data-parallel, each rank evaluates its
// shard, the confusion matrices are summed, and rank 0 alone writes (the others' pictures are
// sent to it).
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { DataLoader } from "../../data/loader.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../data/transforms/pipeline.js";
import { segEvalTransform } from "../../data/transforms/segmentation.js";
import { gatherNamed, type NamedBytes, syncBuffers } from "../../distributed/evalShard.js";
import type { DistGroup } from "../../distributed/group.js";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import type { PSPNet } from "../../models/pspnet.js";
import { toTensors } from "../common/batches.js";
import { evalShardOf } from "../common/evalShard.js";
import { type SlidingOptions, slidingPredict } from "./segInfer.js";
import { ConfusionMatrix, perClassTable, type SegMetrics } from "./segMetrics.js";
import { labelPng, triptychPng } from "./segVis.js";

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
  /** Data-parallel group: this rank evaluates its shard; give every rank the same options. */
  distributed?: DistGroup;
}

export async function evaluateSegmentation(
  model: PSPNet,
  data: Dataset,
  o: SegEvalOptions,
): Promise<{ metrics: SegMetrics; confusion: ConfusionMatrix; local: number }> {
  const mean = o.mean ?? IMAGENET_MEAN;
  const std = o.std ?? IMAGENET_STD;
  const dist = o.distributed;
  const lead = !dist || dist.isLead;
  if (dist) syncBuffers(dist, [model]);
  const { shard, positions } = evalShardOf(data, dist);
  const loader = new DataLoader(shard, {
    batchSize: 1,
    transform: segEvalTransform({ crop: null, mean, std }),
    numWorkers: o.workers ?? 2,
  });
  const cm = new ConfusionMatrix(model.numClasses);
  const wasTraining = model.training;
  const saveImages = o.outDir ? (o.saveImages ?? 0) : 0;
  const saveLabels = Boolean(o.outDir && o.saveLabels);
  const pics = join(o.outDir ?? "", "predictions");
  if (lead && saveImages > 0) mkdirSync(pics, { recursive: true });
  if (lead && saveLabels) mkdirSync(join(pics, "labels"), { recursive: true });
  // Pictures: rank 0 writes its own at once, the others' after the evaluation.
  const held: NamedBytes[] = [];
  const emit = (f: NamedBytes) =>
    lead ? atomicWriteFile(join(pics, f.name), f.data, { syncDir: false }) : held.push(f);
  let k = 0;
  const t0 = Date.now();
  let lastLine = t0;
  try {
    for await (const b of loader.epoch(0)) {
      const i = positions[b.indices[0]];
      const where = data.spec.masks?.[i] ?? `${data.spec.name}[${i}]`;
      const { images, masks } = toTensors(b, o.device);
      const pred = slidingPredict(model, images, o);
      const truth = masks!.squeeze(0);
      cm.add(pred, truth, where);
      // Named by dataset position: the first `saveImages` of the set, whichever rank has them.
      if (i < saveImages)
        emit({
          name: `${String(i).padStart(4, "0")}.png`,
          data: await triptychPng(images, truth, pred, mean, std),
        });
      if (saveLabels) {
        const name = basename(where).replace(/\.[^.]+$/, "");
        emit({ name: join("labels", `${name}.png`), data: await labelPng(pred) });
      }
      for (const t of [images, masks!, pred, truth]) t.dispose();
      k++;
      if (o.progress && Date.now() - lastLine > 10_000) {
        lastLine = Date.now();
        const rate = k / ((lastLine - t0) / 1000);
        process.stderr.write(`seg eval ${k}/${shard.length} images · ${rate.toFixed(2)} img/s\n`);
      }
    }
  } finally {
    await loader.close();
    model.train(wasTraining);
  }
  if (dist) {
    await dist.allArrive();
    cm.counts.set(dist.sumArray(cm.counts));
    const sent = gatherNamed(dist, held);
    if (lead) for (const f of sent) emit(f);
  }
  const metrics = cm.metrics();
  if (o.outDir && lead) {
    const text = (s: string) => Buffer.from(s, "utf8");
    atomicWriteFile(join(o.outDir, "confusion.csv"), text(cm.toCsv(data.classes)));
    atomicWriteFile(join(o.outDir, "per_class.md"), text(perClassTable(data.classes, metrics)));
  }
  return { metrics, confusion: cm, local: k };
}
