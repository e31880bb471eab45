// torchvision's Matcher: each prediction (column of the IoU matrix) takes its best
// ground truth, or BELOW_LOW / BETWEEN by the thresholds; with low-quality matches on,
// every ground truth also keeps the predictions that overlap it best.
import { amax, logicalAnd, max, type Tensor, where } from "../../tensor/index.js";
import { anyDim } from "./tensorOps.js";

export const BELOW_LOW = -1;
export const BETWEEN = -2;

export class Matcher {
  constructor(
    readonly high: number,
    readonly low: number,
    readonly allowLowQuality = false,
  ) {
    if (low > high) throw new Error(`Matcher: low threshold ${low} above high ${high}`);
  }

  /** IoU [numGt, numPred] → matched gt index per prediction (int64), or -1 / -2. */
  match(quality: Tensor): Tensor {
    if (quality.size(0) === 0) {
      throw new Error("Matcher: no ground-truth boxes in a training image");
    }
    const [vals, all] = max(quality, 0);
    let m = where(vals.lt(this.low), BELOW_LOW, all);
    m = where(logicalAnd(vals.ge(this.low), vals.lt(this.high)), BETWEEN, m);
    if (this.allowLowQuality) {
      const best = amax(quality, 1, true);
      const hit = anyDim(quality.eq(best), 0);
      m = where(hit, all, m);
    }
    return m;
  }
}
