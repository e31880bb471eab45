// torchvision's RoIHeads for Faster R-CNN: in training, add the ground truth to the
// proposals, match (IoU 0.5), sample 512 per image a quarter positive, and return the
// classification and class-specific box losses; in evaluation, decode per class, drop
// scores ≤ 0.05 and tiny boxes, NMS 0.5 per class, keep the 100 best.
import { crossEntropy, smoothL1Loss, softmax } from "../../nn/functional.js";
import { Linear } from "../../nn/linear.js";
import { Module } from "../../nn/module.js";
import {
  arange,
  cat,
  index,
  logicalOr,
  noGrad,
  split,
  type Tensor,
  zeros,
} from "../../tensor/index.js";
import {
  BoxCoder,
  batchedNms,
  boxIou,
  clipBoxesToImage,
  removeSmallBoxes,
  whereIdx,
} from "./boxes.js";
import { BELOW_LOW, BETWEEN, Matcher } from "./matcher.js";
import { BalancedSampler } from "./sampler.js";

export class TwoMlpHead extends Module {
  readonly fc6: Linear;
  readonly fc7: Linear;
  constructor(inChannels: number, representation = 1024) {
    super();
    this.fc6 = this.registerModule("fc6", new Linear(inChannels, representation));
    this.fc7 = this.registerModule("fc7", new Linear(representation, representation));
  }
  forward(x: Tensor): Tensor {
    return this.fc7.forward(this.fc6.forward(x.flatten(1)).relu()).relu();
  }
}

export class FastRcnnPredictor extends Module {
  readonly clsScore: Linear;
  readonly bboxPred: Linear;
  constructor(inChannels: number, numClasses: number) {
    super();
    this.clsScore = this.registerModule("cls_score", new Linear(inChannels, numClasses));
    this.bboxPred = this.registerModule("bbox_pred", new Linear(inChannels, numClasses * 4));
  }
  forward(x: Tensor): { logits: Tensor; deltas: Tensor } {
    const f = x.flatten(1);
    return { logits: this.clsScore.forward(f), deltas: this.bboxPred.forward(f) };
  }
}

/** Per-box features from the backbone's maps: pooler + head. */
export type BoxFeatures = (
  features: readonly Tensor[],
  boxes: readonly Tensor[],
  imageSizes: readonly [number, number][],
) => Tensor;

export interface RoiHeadsOptions {
  fgIou: number;
  bgIou: number;
  batchPerImage: number;
  positiveFraction: number;
  scoreThresh: number;
  nmsThresh: number;
  detectionsPerImage: number;
}

export const ROI_HEADS_DEFAULTS: RoiHeadsOptions = {
  fgIou: 0.5,
  bgIou: 0.5,
  batchPerImage: 512,
  positiveFraction: 0.25,
  scoreThresh: 0.05,
  nmsThresh: 0.5,
  detectionsPerImage: 100,
};

export interface Detections {
  boxes: Tensor;
  scores: Tensor;
  labels: Tensor;
}

export interface RoiLosses {
  lossClassifier: Tensor;
  lossBoxReg: Tensor;
}

export interface Targets {
  boxes: Tensor;
  /** int64 class ids, 1-based (0 is background). */
  labels: Tensor;
}

export class RoiHeads extends Module {
  readonly coder = new BoxCoder([10, 10, 5, 5]);
  readonly matcher: Matcher;
  readonly sampler: BalancedSampler;

  constructor(
    readonly boxFeatures: BoxFeatures,
    readonly predictor: FastRcnnPredictor,
    readonly o: RoiHeadsOptions = ROI_HEADS_DEFAULTS,
  ) {
    super();
    this.matcher = new Matcher(o.fgIou, o.bgIou, false);
    this.sampler = new BalancedSampler(o.batchPerImage, o.positiveFraction);
  }

  forward(
    features: readonly Tensor[],
    proposals: Tensor[],
    imageSizes: [number, number][],
    targets?: readonly Targets[],
  ): { detections?: Detections[]; losses?: RoiLosses } {
    if (this.training) {
      if (!targets) throw new Error("RoIHeads: training needs targets");
      const s = noGrad(() => this.#select(proposals, targets));
      const { logits, deltas } = this.predictor.forward(
        this.boxFeatures(features, s.proposals, imageSizes),
      );
      return { losses: fastRcnnLoss(logits, deltas, s.labels, s.regTargets) };
    }
    const { logits, deltas } = this.predictor.forward(
      this.boxFeatures(features, proposals, imageSizes),
    );
    return { detections: this.#postprocess(logits, deltas, proposals, imageSizes) };
  }

  #select(proposals: Tensor[], targets: readonly Targets[]) {
    const props = proposals.map((p, i) => cat([p, targets[i].boxes]));
    const labels: Tensor[] = [];
    const matched: Tensor[] = [];
    props.forEach((p, i) => {
      const { boxes, labels: gtLabels } = targets[i];
      if (boxes.numel === 0) {
        matched.push(zeros([p.size(0)], { dtype: "int64" }));
        labels.push(zeros([p.size(0)], { dtype: "int64" }));
        return;
      }
      const m = this.matcher.match(boxIou(boxes, p));
      matched.push(m.clamp(0));
      let l = index(gtLabels, m.clamp(0)).to({ dtype: "int64" });
      l = l.maskedFill(m.eq(BELOW_LOW), 0).maskedFill(m.eq(BETWEEN), -1);
      labels.push(l);
    });
    const { pos, neg } = this.sampler.sample(labels);
    const outProps: Tensor[] = [];
    const outLabels: Tensor[] = [];
    const regTargets: Tensor[] = [];
    props.forEach((p, i) => {
      const keep = whereIdx(logicalOr(pos[i], neg[i]));
      const gt = targets[i].boxes.numel === 0 ? zeros([1, 4]) : targets[i].boxes;
      const sp = index(p, keep);
      outProps.push(sp);
      outLabels.push(index(labels[i], keep));
      regTargets.push(this.coder.encode(index(gt, index(matched[i], keep)), sp));
    });
    return { proposals: outProps, labels: outLabels, regTargets };
  }

  #postprocess(
    logits: Tensor,
    deltas: Tensor,
    proposals: Tensor[],
    sizes: [number, number][],
  ): Detections[] {
    const numClasses = logits.size(1);
    const perImage = proposals.map((p) => p.size(0));
    const boxes = split(this.coder.decode(deltas, cat(proposals)), perImage, 0);
    const scores = split(softmax(logits, -1), perImage, 0);
    return boxes.map((b0, i) => {
      let b = index(clipBoxesToImage(b0, sizes[i]), null, [1, null]).reshape(-1, 4);
      let s = index(scores[i], null, [1, null]).reshape(-1);
      let l = arange(0, numClasses)
        .view(1, -1)
        .expand(...scores[i].shape);
      l = index(l, null, [1, null]).reshape(-1);
      let k = whereIdx(s.gt(this.o.scoreThresh));
      [b, s, l] = [index(b, k), index(s, k), index(l, k)];
      k = removeSmallBoxes(b, 1e-2);
      [b, s, l] = [index(b, k), index(s, k), index(l, k)];
      k = index(batchedNms(b, s, l, this.o.nmsThresh), [0, this.o.detectionsPerImage]);
      return { boxes: index(b, k), scores: index(s, k), labels: index(l, k) };
    });
  }
}

function fastRcnnLoss(
  logits: Tensor,
  deltas: Tensor,
  labels: Tensor[],
  regTargets: Tensor[],
): RoiLosses {
  const l = cat(labels);
  const t = cat(regTargets);
  const cls = crossEntropy(logits, l);
  const posIdx = whereIdx(l.gt(0));
  const n = logits.size(0);
  const d = deltas.reshape(n, -1, 4);
  const box = smoothL1Loss(index(d, posIdx, index(l, posIdx)), index(t, posIdx), "sum", 1 / 9).div(
    l.numel,
  );
  return { lossClassifier: cls, lossBoxReg: box };
}
