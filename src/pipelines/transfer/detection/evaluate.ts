// Evaluation of a detector on a val set: detections for every image (model in eval mode),
// saved in COCO's results format, scored with VOC07 AP50 and COCO AP, and a few images
// drawn as PNG. Data-parallel, each rank detects its shard of the images, the detections are
// gathered on every rank and scored there; rank 0 alone writes.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DetDataset, DetRecord } from "../../../data/datasets/detection.js";
import { shardIndices, syncBuffers } from "../../../distributed/evalShard.js";
import type { DistGroup } from "../../../distributed/group.js";
import { atomicWriteFile } from "../../../io/atomicWrite.js";
import type { FasterRcnn } from "../../../models/detection/fasterRcnn.js";
import { noGrad, tidy } from "../../../tensor/index.js";
import { cocoEvaluate } from "./cocoEval.js";
import { drawDetections } from "./draw.js";
import type { Box, Detection, GroundTruth } from "./evalTypes.js";
import { loadImage } from "./images.js";
import { vocEvaluate } from "./vocEval.js";

/** Scores of a detector on a val set, all in percent. */
export interface DetMetrics {
  /** VOC07 11-point AP50 (the devkit's), mean over classes. */
  vocMap50: number;
  /** VOC07 AP50 per class name. */
  vocPerClass: Record<string, number>;
  /** COCO AP: mean over IoU 0.50:0.05:0.95, 101 recall points, categories (maxDets 100). */
  AP: number;
  /** COCO AP at IoU 0.5. */
  AP50: number;
  /** COCO AP at IoU 0.75. */
  AP75: number;
  /** COCO AP of small objects (area < 32²). */
  APs: number;
  /** COCO AP of medium objects (32² to 96²). */
  APm: number;
  /** COCO AP of large objects (area > 96²). */
  APl: number;
}

export async function evaluateDetector(
  model: FasterRcnn,
  data: DetDataset,
  outDir: string,
  o: { limit?: number; draw?: number; distributed?: DistGroup } = {},
): Promise<DetMetrics> {
  const records = o.limit ? data.records.slice(0, o.limit) : data.records;
  const dist = o.distributed;
  if (dist) syncBuffers(dist, [model]);
  const mine = await detectShard(model, records, shardIndices(records.length, dist));
  if (dist) await dist.allArrive();
  const dets = dist ? gatherDetections(dist, mine, records) : mine;
  if (dist && !dist.isLead) return scoreDetections(data, records, dets);
  mkdirSync(join(outDir, "images"), { recursive: true });
  for (const r of records.slice(0, o.draw ?? 0)) {
    const strong = dets.filter((d) => d.image === r.id && d.score >= 0.5).map((d) => d.box);
    const name = `${String(r.id).replace(/[^\w.-]/g, "_")}.png`;
    await drawDetections(r, strong, join(outDir, "images", name));
  }
  const catId = (label: number) => data.categoryIds?.[label] ?? label + 1;
  const results = dets.map((d) => ({
    image_id: d.image,
    category_id: catId(d.label),
    bbox: [d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]].map(
      (v) => Math.round(v * 100) / 100,
    ),
    score: Math.round(d.score * 1e5) / 1e5,
  }));
  atomicWriteFile(
    join(outDir, "coco_results.json"),
    new TextEncoder().encode(JSON.stringify(results)),
  );
  return scoreDetections(data, records, dets);
}

/** VOC07 AP50 and COCO AP of detections on `records`, in percent. */
function scoreDetections(data: DetDataset, records: DetRecord[], dets: Detection[]): DetMetrics {
  const gts: GroundTruth[] = records.flatMap((r) =>
    r.objects.map((ob) => ({
      image: r.id,
      box: ob.box,
      label: ob.label,
      iscrowd: ob.iscrowd,
      difficult: ob.difficult,
      area: ob.area,
    })),
  );
  const k = data.classes.length;
  const voc = vocEvaluate(gts, dets, k);
  const coco = cocoEvaluate(
    gts,
    dets,
    records.map((r) => r.id),
    Array.from({ length: k }, (_, c) => c),
  );
  const pct = (v: number) => Math.round(v * 10000) / 100;
  return {
    vocMap50: pct(voc.mAP),
    vocPerClass: Object.fromEntries(data.classes.map((c, i) => [c, pct(voc.perClass[i])])),
    AP: pct(coco.AP),
    AP50: pct(coco.AP50),
    AP75: pct(coco.AP75),
    APs: pct(coco.APs),
    APm: pct(coco.APm),
    APl: pct(coco.APl),
  };
}

/** Detections of the records at `positions`, in that order (each image's in the model's order). */
async function detectShard(
  model: FasterRcnn,
  records: DetRecord[],
  positions: Int32Array,
): Promise<Detection[]> {
  const wasTraining = model.training;
  model.eval();
  const dets: Detection[] = [];
  try {
    for (const p of positions) {
      const r = records[p];
      const img = await loadImage(r);
      const found = tidy(() => noGrad(() => model.detect([img])[0]));
      img.dispose();
      const b = found.boxes.toArray();
      const l = found.labels.toArray();
      for (const [k, score] of found.scores.toArray().entries())
        dets.push({
          image: r.id,
          box: b.slice(k * 4, k * 4 + 4) as unknown as Box,
          label: l[k] - 1,
          score,
        });
      for (const t of [found.boxes, found.scores, found.labels]) t.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
  return dets;
}

const ROW = 7; // position, x1, y1, x2, y2, label, score (float64: the float32 values exactly)

/**
 * Every rank's detections on every rank, in the order one process makes them (by record, then
 * as the model gave them): the scores' ties are then broken as in one process.
 */
function gatherDetections(group: DistGroup, mine: Detection[], records: DetRecord[]): Detection[] {
  const pos = new Map(records.map((r, i) => [r.id, i]));
  const rows = new Float64Array(mine.length * ROW);
  for (const [k, d] of mine.entries())
    rows.set([pos.get(d.image)!, ...d.box, d.label, d.score], k * ROW);
  const all = group
    .allGatherBytes(new Uint8Array(rows.buffer))
    .flatMap((bytes) => {
      const f = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
      return Array.from({ length: f.length / ROW }, (_, k) => f.slice(k * ROW, (k + 1) * ROW));
    })
    .map((f, order) => ({ f, order }));
  // A stable order: by record, then by rank and place within it (one rank per record).
  all.sort((a, b) => a.f[0] - b.f[0] || a.order - b.order);
  return all.map(({ f }) => ({
    image: records[f[0]].id,
    box: [f[1], f[2], f[3], f[4]] as const,
    label: f[5],
    score: f[6],
  }));
}
