// COCO box AP with pycocotools' semantics: per image and category, up to 100 detections by
// decreasing score greedily take the best-overlapping free ground truth at each IoU
// threshold 0.50:0.05:0.95 (crowd regions can be hit repeatedly and are ignored, as are
// ground truths outside the area range); precision is made monotone and read at 101
// recall points; AP averages over thresholds, recall points and the categories that have
// ground truth (others are left out, as pycocotools' −1).
import { boxArea, byScore, type Detection, type GroundTruth, iou } from "./evalTypes.js";

/** numpy's linspace, value for value (pycocotools compares IoUs against these). */
function linspace(start: number, stop: number, n: number): number[] {
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : i * step + start));
}
export const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
const RECALL_POINTS = linspace(0, 1, 101);
export const AREA_RANGES = {
  all: [0, 1e10],
  small: [0, 32 ** 2],
  medium: [32 ** 2, 96 ** 2],
  large: [96 ** 2, 1e10],
} as const;
type AreaName = keyof typeof AREA_RANGES;

export interface CocoResult {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
}

interface ImageEval {
  scores: number[];
  /** [threshold][detection]: matched a ground truth. */
  matched: boolean[][];
  /** [threshold][detection]: ignored (matched an ignored gt, or unmatched outside the range). */
  ignored: boolean[][];
  /** Ground truths that count. */
  numGt: number;
}

function evaluateImage(
  gts: GroundTruth[],
  dets: Detection[],
  range: readonly [number, number],
  maxDet: number,
): ImageEval | null {
  if (gts.length === 0 && dets.length === 0) return null;
  const outside = (a: number) => a < range[0] || a > range[1];
  const gIgn = gts.map((g) => Boolean(g.iscrowd) || outside(g.area ?? boxArea(g.box)));
  // Counted ground truths first (a stable sort), as pycocotools.
  const order = gts.map((_, i) => i).sort((a, b) => Number(gIgn[a]) - Number(gIgn[b]) || a - b);
  const g = order.map((i) => gts[i]);
  const ign = order.map((i) => gIgn[i]);
  const d = byScore(dets).slice(0, maxDet);
  const ious = d.map((x) => g.map((y) => iou(x.box, y.box, y.iscrowd)));
  const matched: boolean[][] = [];
  const ignored: boolean[][] = [];
  for (const t of IOU_THRESHOLDS) {
    const taken = g.map(() => false);
    const m = d.map(() => false);
    const ig = d.map(() => false);
    d.forEach((det, di) => {
      let best = Math.min(t, 1 - 1e-10);
      let gi = -1;
      for (let j = 0; j < g.length; j++) {
        if (taken[j] && !g[j].iscrowd) continue;
        if (gi > -1 && !ign[gi] && ign[j]) break;
        if (ious[di][j] < best) continue;
        best = ious[di][j];
        gi = j;
      }
      if (gi === -1) {
        ig[di] = outside(boxArea(det.box));
        return;
      }
      ig[di] = ign[gi];
      m[di] = true;
      taken[gi] = true;
    });
    matched.push(m);
    ignored.push(ig);
  }
  return { scores: d.map((x) => x.score), matched, ignored, numGt: ign.filter((x) => !x).length };
}

/** Precision at the 101 recall points for one threshold, or null without ground truth. */
function precisionCurve(evals: ImageEval[], t: number): number[] | null {
  const numGt = evals.reduce((a, e) => a + e.numGt, 0);
  if (numGt === 0) return null;
  const all = evals.flatMap((e) =>
    e.scores.map((score, i) => ({ score, m: e.matched[t][i], ig: e.ignored[t][i] })),
  );
  const sorted = byScore(all);
  const rc: number[] = [];
  const pr: number[] = [];
  let tp = 0;
  let fp = 0;
  for (const x of sorted) {
    if (x.ig) {
      // Ignored detections still occupy a slot in pycocotools' cumulative sums.
    } else if (x.m) tp++;
    else fp++;
    rc.push(tp / numGt);
    pr.push(tp / (tp + fp + Number.EPSILON));
  }
  for (let i = pr.length - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
  return RECALL_POINTS.map((r) => {
    let lo = 0;
    let hi = rc.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rc[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo < pr.length ? pr[lo] : 0;
  });
}

function group<T extends { image: number | string; label: number }>(
  xs: readonly T[],
): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = `${x.label}\u0000${String(x.image)}`;
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return m;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

/**
 * COCO AP, AP50, AP75 and APs/APm/APl (maxDets 100) over `images` (every image of the
 * ground truth, those without objects included) and `categories`. NaN where nothing counts.
 */
export function cocoEvaluate(
  gts: readonly GroundTruth[],
  dets: readonly Detection[],
  images: readonly (number | string)[],
  categories: readonly number[],
  maxDet = 100,
): CocoResult {
  const known = new Set(images.map(String));
  for (const d of dets) {
    if (!known.has(String(d.image)))
      throw new Error(`COCO evaluation: a detection names unknown image ${d.image}`);
  }
  const gByKey = group(gts);
  const dByKey = group(dets);
  const curves = (area: AreaName): (number[] | null)[][] =>
    categories.map((c) => {
      const evals: ImageEval[] = [];
      for (const im of images) {
        const k = `${c}\u0000${String(im)}`;
        const e = evaluateImage(
          gByKey.get(k) ?? [],
          dByKey.get(k) ?? [],
          AREA_RANGES[area],
          maxDet,
        );
        if (e) evals.push(e);
      }
      return IOU_THRESHOLDS.map((_, t) => precisionCurve(evals, t));
    });
  const ap = (cs: (number[] | null)[][], t?: number): number =>
    mean(
      cs.flatMap((perT) =>
        perT.flatMap((curve, ti) => (curve === null || (t !== undefined && ti !== t) ? [] : curve)),
      ),
    );
  const all = curves("all");
  return {
    AP: ap(all),
    AP50: ap(all, 0),
    AP75: ap(all, 5),
    APs: ap(curves("small")),
    APm: ap(curves("medium")),
    APl: ap(curves("large")),
  };
}
