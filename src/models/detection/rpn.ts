// torchvision's RegionProposalNetwork: decode every anchor's deltas, keep the top-k
// objectness per level, clip, drop tiny boxes, NMS per level, keep post-NMS top-k; in
// training, match anchors to ground truth (0.7 / 0.3, low-quality matches kept), sample
// 256 anchors half positive, and return the objectness and box losses.
import { binaryCrossEntropyWithLogits, smoothL1Loss } from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import {
  arange,
  cat,
  full,
  index,
  noGrad,
  split,
  type Tensor,
  topk,
  zeros,
} from "../../tensor/index.js";
import type { AnchorGenerator } from "./anchors.js";
import {
  BoxCoder,
  batchedNms,
  boxIou,
  clipBoxesToImage,
  removeSmallBoxes,
  whereIdx,
} from "./boxes.js";
import { BELOW_LOW, BETWEEN, Matcher } from "./matcher.js";
import { concatPredictions, type RpnHead } from "./rpnHead.js";
import { BalancedSampler } from "./sampler.js";
import type { ImageList } from "./transform.js";

export interface RpnOptions {
  preNmsTopN: { training: number; testing: number };
  postNmsTopN: { training: number; testing: number };
  nmsThresh: number;
  fgIou: number;
  bgIou: number;
  batchPerImage: number;
  positiveFraction: number;
  scoreThresh: number;
}

export const RPN_DEFAULTS: RpnOptions = {
  preNmsTopN: { training: 2000, testing: 1000 },
  postNmsTopN: { training: 2000, testing: 1000 },
  nmsThresh: 0.7,
  fgIou: 0.7,
  bgIou: 0.3,
  batchPerImage: 256,
  positiveFraction: 0.5,
  scoreThresh: 0,
};

export interface RpnLosses {
  lossObjectness: Tensor;
  lossRpnBoxReg: Tensor;
}

export class Rpn extends Module {
  readonly coder = new BoxCoder([1, 1, 1, 1]);
  readonly matcher: Matcher;
  readonly sampler: BalancedSampler;

  constructor(
    readonly anchorGen: AnchorGenerator,
    readonly head: RpnHead,
    readonly o: RpnOptions = RPN_DEFAULTS,
  ) {
    super();
    this.registerModule("head", head);
    this.matcher = new Matcher(o.fgIou, o.bgIou, true);
    this.sampler = new BalancedSampler(o.batchPerImage, o.positiveFraction);
  }

  /** Proposals per image ([K, 4], detached), and the losses in training. */
  forward(
    images: ImageList,
    features: readonly Tensor[],
    targets?: readonly Tensor[],
  ): { proposals: Tensor[]; losses?: RpnLosses } {
    const { logits, deltas } = this.head.forward(features);
    const n = images.tensors.size(0);
    const padded: [number, number] = [images.tensors.size(2), images.tensors.size(3)];
    const anchors = this.anchorGen.anchors(
      padded,
      features.map((f) => [f.size(2), f.size(3)] as [number, number]),
    );
    const perLevel = logits.map((l) => l.size(1) * l.size(2) * l.size(3));
    const { obj, reg } = concatPredictions(logits, deltas);
    const allAnchors = cat(Array.from({ length: n }, () => anchors));
    const proposals = noGrad(() => this.coder.decode(reg.detach(), allAnchors)).view(n, -1, 4);
    const boxes = noGrad(() =>
      this.#filter(proposals, obj.detach().reshape(n, -1), images.imageSizes, perLevel),
    );
    if (!this.training) return { proposals: boxes };
    if (!targets) throw new Error("RPN: training needs targets");
    return { proposals: boxes, losses: this.#losses(anchors, targets, obj, reg) };
  }

  #topN(which: "preNmsTopN" | "postNmsTopN"): number {
    return this.training ? this.o[which].training : this.o[which].testing;
  }

  #filter(proposals: Tensor, obj: Tensor, sizes: [number, number][], perLevel: number[]): Tensor[] {
    const n = proposals.size(0);
    const levels = cat(perLevel.map((c, i) => full([c], i, { dtype: "int64" })));
    const top: Tensor[] = [];
    let offset = 0;
    for (const ob of split(obj, perLevel, 1)) {
      const k = Math.min(this.#topN("preNmsTopN"), ob.size(1));
      top.push(topk(ob, k, 1)[1].add(offset));
      offset += ob.size(1);
    }
    const topIdx = cat(top, 1);
    const batch = arange(0, n).unsqueeze(1);
    const scores = index(obj, batch, topIdx).sigmoid();
    const lvls = index(levels, topIdx);
    const props = index(proposals, batch, topIdx);
    const out: Tensor[] = [];
    for (let i = 0; i < n; i++) {
      let b = clipBoxesToImage(props.select(0, i), sizes[i]);
      let s = scores.select(0, i);
      let l = lvls.select(0, i);
      let keep = removeSmallBoxes(b, 1e-3);
      [b, s, l] = [index(b, keep), index(s, keep), index(l, keep)];
      keep = whereIdx(s.ge(this.o.scoreThresh));
      [b, s, l] = [index(b, keep), index(s, keep), index(l, keep)];
      keep = batchedNms(b, s, l, this.o.nmsThresh);
      keep = index(keep, [0, this.#topN("postNmsTopN")]);
      out.push(index(b, keep));
    }
    return out;
  }

  #losses(anchors: Tensor, targets: readonly Tensor[], obj: Tensor, reg: Tensor): RpnLosses {
    const labels: Tensor[] = [];
    const matchedBoxes: Tensor[] = [];
    for (const gt of targets) {
      if (gt.numel === 0) {
        labels.push(zeros([anchors.size(0)]));
        matchedBoxes.push(zeros(anchors.shape));
        continue;
      }
      const m = this.matcher.match(boxIou(gt, anchors));
      matchedBoxes.push(index(gt, m.clamp(0)));
      let l = m.ge(0).to({ dtype: "float32" });
      l = l.maskedFill(m.eq(BELOW_LOW), 0).maskedFill(m.eq(BETWEEN), -1);
      labels.push(l);
    }
    const regTargets = noGrad(() =>
      this.coder.encode(
        cat(matchedBoxes),
        cat(Array.from({ length: targets.length }, () => anchors)),
      ),
    );
    const { pos, neg } = this.sampler.sample(labels);
    const posIdx = whereIdx(cat(pos));
    const sampled = cat([posIdx, whereIdx(cat(neg))]);
    const boxLoss = smoothL1Loss(index(reg, posIdx), index(regTargets, posIdx), "sum", 1 / 9).div(
      sampled.numel,
    );
    const objLoss = binaryCrossEntropyWithLogits(
      index(obj.flatten(), sampled),
      index(cat(labels), sampled),
    );
    return { lossObjectness: objLoss, lossRpnBoxReg: boxLoss };
  }
}
