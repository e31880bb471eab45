// PASCAL VOC 2007 detection AP (the devkit's voc_eval): per class, detections by
// decreasing score are true positives when they overlap (IoU > 0.5) a not-yet-claimed
// ground truth, duplicates are false positives, and hits on difficult objects count as
// neither; AP is the 11-point interpolated precision (recall 0, 0.1, …, 1). The devkit's
// "+1" pixel convention on 1-based inclusive boxes equals plain IoU on continuous boxes
// (the VOC reader subtracts 1 from xmin/ymin). A class with no non-difficult ground truth
// has AP NaN and is left out of the mean.
import { byScore, type Detection, type GroundTruth, iou } from "./evalTypes.js";

export interface VocResult {
  /** AP50 per class (NaN where the class has no ground truth), in [0, 1]. */
  perClass: number[];
  mAP: number;
}

export function vocAp07(recall: number[], precision: number[]): number {
  let ap = 0;
  for (let k = 0; k <= 10; k++) {
    const t = k / 10;
    let p = 0;
    for (let i = 0; i < recall.length; i++)
      if (recall[i] >= t && precision[i] > p) p = precision[i];
    ap += p / 11;
  }
  return ap;
}

function classAp(gts: GroundTruth[], dets: Detection[], thresh: number): number {
  const byImage = new Map<number | string, { g: GroundTruth; claimed: boolean }[]>();
  let npos = 0;
  for (const g of gts) {
    if (!g.difficult) npos++;
    const list = byImage.get(g.image) ?? [];
    list.push({ g, claimed: false });
    byImage.set(g.image, list);
  }
  if (npos === 0) return Number.NaN;
  const tp: number[] = [];
  const fp: number[] = [];
  for (const d of byScore(dets)) {
    let best = -Infinity;
    let match: { g: GroundTruth; claimed: boolean } | undefined;
    for (const e of byImage.get(d.image) ?? []) {
      const o = iou(d.box, e.g.box);
      if (o > best) [best, match] = [o, e];
    }
    let t = 0;
    let f = 0;
    if (match && best > thresh) {
      if (!match.g.difficult) {
        if (!match.claimed) [t, match.claimed] = [1, true];
        else f = 1;
      }
    } else f = 1;
    tp.push((tp.at(-1) ?? 0) + t);
    fp.push((fp.at(-1) ?? 0) + f);
  }
  const rec = tp.map((t) => t / npos);
  const prec = tp.map((t, i) => t / Math.max(t + fp[i], Number.EPSILON));
  return vocAp07(rec, prec);
}

/** VOC07 AP at IoU > `thresh` (0.5) for classes 0..numClasses−1, and their mean. */
export function vocEvaluate(
  gts: readonly GroundTruth[],
  dets: readonly Detection[],
  numClasses: number,
  thresh = 0.5,
): VocResult {
  const perClass = Array.from({ length: numClasses }, (_, c) =>
    classAp(
      gts.filter((g) => g.label === c),
      dets.filter((d) => d.label === c),
      thresh,
    ),
  );
  const valid = perClass.filter((a) => !Number.isNaN(a));
  const mAP = valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : Number.NaN;
  return { perClass, mAP };
}
