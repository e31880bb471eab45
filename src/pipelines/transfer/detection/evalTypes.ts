// What the detection evaluators read: boxes as x1, y1, x2, y2 in continuous pixel
// coordinates (x2 exclusive), classes 0-based, images by any id.

export type Box = readonly [number, number, number, number];

export interface GroundTruth {
  image: number | string;
  box: Box;
  label: number;
  /** COCO: a crowd region; detections on it are neither right nor wrong. */
  iscrowd?: boolean;
  /** VOC: a difficult object; detections on it are neither right nor wrong. */
  difficult?: boolean;
  /** COCO's annotation area (decides the size range); the box area when absent. */
  area?: number;
}

export interface Detection {
  image: number | string;
  box: Box;
  label: number;
  score: number;
}

/** Detections by decreasing score; ties keep their input order (a stable sort). */
export function byScore<T extends { score: number }>(ds: readonly T[]): T[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.score - a.d.score || a.i - b.i)
    .map((x) => x.d);
}

export function boxArea(b: Box): number {
  return (b[2] - b[0]) * (b[3] - b[1]);
}

/** IoU; for a crowd ground truth, the intersection over the detection's area (pycocotools). */
export function iou(d: Box, g: Box, crowd = false): number {
  const w = Math.min(d[2], g[2]) - Math.max(d[0], g[0]);
  const h = Math.min(d[3], g[3]) - Math.max(d[1], g[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = crowd ? boxArea(d) : boxArea(d) + boxArea(g) - inter;
  return inter / union;
}
