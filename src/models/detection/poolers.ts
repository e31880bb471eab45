// torchvision's MultiScaleRoIAlign: each box is pooled (RoIAlign, 7×7, 2 samples) from the
// FPN level floor(4 + log2(√area / 224) + 1e-6), clamped to the levels present; a level's
// scale is inferred from its size against the largest image of the batch.

import { cat, full, index, type Tensor } from "../../tensor/index.js";
import { roiAlign } from "../../tensor/ops/visionOps.js";
import { boxArea, whereIdx } from "./boxes.js";
import { argsort, log2 } from "./tensorOps.js";

/** [K, 5] rois: image index, then the box. */
export function toRois(boxes: readonly Tensor[]): Tensor {
  return cat(
    boxes.map((b, i) => cat([full([b.size(0), 1], i, { dtype: b.dtype }), b], 1)),
    0,
  );
}

function inferScale(feature: Tensor, original: readonly [number, number]): number {
  const approx = feature.size(2) / original[0];
  return 2 ** Math.round(Math.log2(Math.fround(approx)));
}

export interface PoolerOptions {
  outputSize: number;
  samplingRatio: number;
  canonicalScale?: number;
  canonicalLevel?: number;
}

export class MultiScaleRoIAlign {
  constructor(readonly o: PoolerOptions) {}

  /** Pooled features [K, C, s, s] for every image's boxes, in box order. */
  forward(
    features: readonly Tensor[],
    boxes: readonly Tensor[],
    imageSizes: readonly [number, number][],
  ): Tensor {
    const original: [number, number] = [
      Math.max(...imageSizes.map((s) => s[0])),
      Math.max(...imageSizes.map((s) => s[1])),
    ];
    const scales = features.map((f) => inferScale(f, original));
    const rois = toRois(boxes);
    const size: [number, number] = [this.o.outputSize, this.o.outputSize];
    const opts = { outputSize: size, samplingRatio: this.o.samplingRatio };
    if (features.length === 1)
      return roiAlign(features[0], rois, { ...opts, spatialScale: scales[0] });
    const kMin = Math.trunc(-Math.log2(scales[0]));
    const kMax = Math.trunc(-Math.log2(scales[scales.length - 1]));
    const levels = this.#levels(boxes, kMin, kMax);
    const parts: Tensor[] = [];
    const idxs: Tensor[] = [];
    features.forEach((f, l) => {
      const idx = whereIdx(levels.eq(l));
      idxs.push(idx);
      parts.push(roiAlign(f, index(rois, idx), { ...opts, spatialScale: scales[l] }));
    });
    // Rows grouped by level, put back in box order.
    return index(cat(parts, 0), argsort(cat(idxs)));
  }

  #levels(boxes: readonly Tensor[], kMin: number, kMax: number): Tensor {
    const s = cat(boxes.map(boxArea)).sqrt();
    const s0 = this.o.canonicalScale ?? 224;
    const lvl0 = this.o.canonicalLevel ?? 4;
    const eps = Math.fround(1e-6);
    const t = log2(s.div(s0)).add(lvl0).add(eps).floor().clamp(kMin, kMax);
    return t.to({ dtype: "int64" }).sub(kMin);
  }
}
