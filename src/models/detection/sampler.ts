// torchvision's BalancedPositiveNegativeSampler: per image, up to batch·fraction positives
// (label ≥ 1) and the rest negatives (label 0), drawn by randperm from the global generator,
// in the same order of draws as torchvision (so a shared seed gives the same samples).
import { index, manualSeed, randperm, type Tensor, zeros } from "../../tensor/index.js";
import { whereIdx } from "./boxes.js";
import { indexFill } from "./tensorOps.js";

export class BalancedSampler {
  /**
   * Per image of the next batches, a seed set before its draws, so that an image's samples
   * do not depend on which images share its batch (data-parallel runs); null: one stream.
   */
  imageSeeds: readonly number[] | null = null;

  constructor(
    readonly batchPerImage: number,
    readonly positiveFraction: number,
  ) {}

  /** Per image: [positive mask, negative mask] as bool tensors over its labels. */
  sample(labels: readonly Tensor[]): { pos: Tensor[]; neg: Tensor[] } {
    const pos: Tensor[] = [];
    const neg: Tensor[] = [];
    for (const [i, l] of labels.entries()) {
      if (this.imageSeeds) manualSeed(this.imageSeeds[i]);
      const positive = whereIdx(l.ge(1));
      const negative = whereIdx(l.eq(0));
      const numPos = Math.min(
        positive.numel,
        Math.floor(this.batchPerImage * this.positiveFraction),
      );
      const numNeg = Math.min(negative.numel, this.batchPerImage - numPos);
      const p = index(positive, index(randperm(positive.numel), [0, numPos]));
      const n = index(negative, index(randperm(negative.numel), [0, numNeg]));
      pos.push(maskOf(l.size(0), p));
      neg.push(maskOf(l.size(0), n));
    }
    return { pos, neg };
  }
}

function maskOf(n: number, idx: Tensor): Tensor {
  return indexFill(zeros([n], { dtype: "bool" }), idx, 1);
}
