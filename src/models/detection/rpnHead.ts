// torchvision's RPNHead: a shared 3×3 conv + ReLU, then per anchor an objectness logit and
// four box deltas, on every feature level. Keys as torchvision 0.14 (conv.0.0.*).
import * as init from "../../nn/init.js";
import { ReLU, Sequential } from "../../nn/layers.js";
import { Conv2d } from "../../nn/linear.js";
import { Module } from "../../nn/module.js";
import { cat, type Tensor } from "../../tensor/index.js";

export class RpnHead extends Module {
  readonly conv: Sequential;
  readonly clsLogits: Conv2d;
  readonly bboxPred: Conv2d;

  constructor(inChannels: number, numAnchors: number) {
    super();
    this.conv = this.registerModule(
      "conv",
      new Sequential(
        new Sequential(new Conv2d(inChannels, inChannels, 3, { padding: 1 }), new ReLU(true)),
      ),
    );
    this.clsLogits = this.registerModule("cls_logits", new Conv2d(inChannels, numAnchors, 1));
    this.bboxPred = this.registerModule("bbox_pred", new Conv2d(inChannels, numAnchors * 4, 1));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        init.normal_(m.weight, 0, 0.01);
        init.zeros_(m.bias!);
      }
    }
  }

  /** Per level: objectness [N, A, H, W] and deltas [N, 4A, H, W]. */
  forward(features: readonly Tensor[]): { logits: Tensor[]; deltas: Tensor[] } {
    const logits: Tensor[] = [];
    const deltas: Tensor[] = [];
    for (const f of features) {
      const t = this.conv.forward(f);
      logits.push(this.clsLogits.forward(t));
      deltas.push(this.bboxPred.forward(t));
    }
    return { logits, deltas };
  }
}

/** [N, A·C, H, W] → [N, H·W·A, C] (torchvision's permute_and_flatten). */
function permuteAndFlatten(t: Tensor, c: number): Tensor {
  const [n, ac, h, w] = t.shape;
  return t
    .view(n, ac / c, c, h, w)
    .permute(0, 3, 4, 1, 2)
    .reshape(n, -1, c);
}

/** All levels' objectness as [N·total, 1] and deltas as [N·total, 4], anchor order. */
export function concatPredictions(
  logits: Tensor[],
  deltas: Tensor[],
): { obj: Tensor; reg: Tensor } {
  const obj = cat(
    logits.map((l) => permuteAndFlatten(l, 1)),
    1,
  ).flatten(0, -2);
  const reg = cat(
    deltas.map((d) => permuteAndFlatten(d, 4)),
    1,
  ).reshape(-1, 4);
  return { obj, reg };
}
