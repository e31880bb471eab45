// The PSPNet training recipe's moving parts: SGD (momentum 0.9, wd 1e-4)
// with the backbone at the base lr and PPM + heads at 10× it, a poly schedule set every
// iteration, and the loss CE(main) + auxWeight·CE(aux) with 255 ignored.
import type { PSPNet } from "../../models/pspnet.js";
import { F } from "../../nn/index.js";
import { LRScheduler, SGD } from "../../optim/index.js";
import type { Tensor } from "../../tensor/index.js";

export const IGNORE_INDEX = 255;

export interface SegOptimOptions {
  lr: number;
  /** Multiplier of the head group's lr (10 in the recipe). */
  headLrMult?: number;
  momentum?: number;
  weightDecay?: number;
  /** Total iterations of the run: the poly schedule reaches 0 there. */
  maxIters: number;
  power?: number;
}

export function segOptimizer(model: PSPNet, o: SegOptimOptions) {
  const { backbone, head } = model.paramGroups();
  const optimizer = new SGD(
    [
      { params: backbone, lr: o.lr },
      { params: head, lr: o.lr * (o.headLrMult ?? 10) },
    ],
    { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 1e-4 },
  );
  const scheduler = new LRScheduler(optimizer.paramGroups, {
    kind: "poly",
    maxSteps: o.maxIters,
    power: o.power ?? 0.9,
  });
  return { optimizer, scheduler };
}

/** Forward, loss, backward and one SGD step; returns the named losses. Call inside tidy. */
export function segTrainStep(
  model: PSPNet,
  optimizer: SGD,
  images: Tensor,
  masks: Tensor,
  auxWeight: number,
): { main: number; aux: number; loss: number } {
  optimizer.zeroGrad();
  const { main, aux } = model.forwardTrain(images);
  const mainLoss = F.crossEntropy(main, masks, { ignoreIndex: IGNORE_INDEX });
  const auxLoss =
    aux === main ? mainLoss : F.crossEntropy(aux, masks, { ignoreIndex: IGNORE_INDEX });
  const loss = auxWeight > 0 ? mainLoss.add(auxLoss.mul(auxWeight)) : mainLoss;
  loss.backward();
  optimizer.step();
  return { main: mainLoss.item(), aux: auxLoss.item(), loss: loss.item() };
}
