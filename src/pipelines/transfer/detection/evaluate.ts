// Evaluation of a detector on a val set: detections for every image (model in eval mode),
// saved in COCO's results format, scored with VOC07 AP50 and COCO AP, and a few images
// drawn as PNG.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DetDataset } from "../../../data/datasets/detection.js";
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
  o: { limit?: number; draw?: number } = {},
): Promise<DetMetrics> {
  const records = o.limit ? data.records.slice(0, o.limit) : data.records;
  const wasTraining = model.training;
  model.eval();
  const dets: Detection[] = [];
  mkdirSync(join(outDir, "images"), { recursive: true });
  try {
    for (const [i, r] of records.entries()) {
      const img = await loadImage(r);
      const found = tidy(() => noGrad(() => model.detect([img])[0]));
      img.dispose();
      const b = found.boxes.toArray();
      const s = found.scores.toArray();
      const l = found.labels.toArray();
      const mine: Detection[] = s.map((score, k) => ({
        image: r.id,
        box: b.slice(k * 4, k * 4 + 4) as unknown as Box,
        label: l[k] - 1,
        score,
      }));
      for (const t of [found.boxes, found.scores, found.labels]) t.dispose();
      dets.push(...mine);
      if (i < (o.draw ?? 0)) {
        const strong = mine.filter((d) => d.score >= 0.5).map((d) => d.box);
        await drawDetections(
          r,
          strong,
          join(outDir, "images", `${String(r.id).replace(/[^\w.-]/g, "_")}.png`),
        );
      }
    }
  } finally {
    model.train(wasTraining);
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
