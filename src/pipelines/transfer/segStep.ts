// The PSPNet training recipe's moving parts: SGD (momentum 0.9, wd 1e-4)
// with the backbone at the base lr and PPM + heads at 10× it, a poly schedule set every
// iteration, and the loss CE(main) + auxWeight·CE(aux) with 255 ignored.
import type { DistGroup } from "../../distributed/group.js";
import type { PSPNet } from "../../models/pspnet.js";
import { F } from "../../nn/index.js";
import { LRScheduler, SGD } from "../../optim/index.js";
import { cat, noGrad, type Tensor } from "../../tensor/index.js";

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

/**
 * Forward, loss, backward and one SGD step; returns the named losses. Call inside tidy.
 * Data-parallel (`group`): each rank's pixel sum is divided by the valid pixels of the whole
 * global batch, so the averaged gradient is the one-process gradient whatever share of the
 * ignored (255) pixels each rank holds.
 */
export function segTrainStep(
  model: PSPNet,
  optimizer: SGD,
  images: Tensor,
  masks: Tensor,
  auxWeight: number,
  group?: DistGroup,
): { main: number; aux: number; loss: number } {
  optimizer.zeroGrad();
  const { main, aux } = model.forwardTrain(images);
  if (group) return globalMeanStep(group, main, aux, masks, auxWeight, optimizer);
  const mainLoss = F.crossEntropy(main, masks, { ignoreIndex: IGNORE_INDEX });
  const auxLoss =
    aux === main ? mainLoss : F.crossEntropy(aux, masks, { ignoreIndex: IGNORE_INDEX });
  const loss = auxWeight > 0 ? mainLoss.add(auxLoss.mul(auxWeight)) : mainLoss;
  loss.backward();
  optimizer.step();
  return { main: mainLoss.item(), aux: auxLoss.item(), loss: loss.item() };
}

/** The losses as means over the global batch's valid pixels (one all-reduce of 3 numbers). */
function globalMeanStep(
  group: DistGroup,
  main: Tensor,
  aux: Tensor,
  masks: Tensor,
  auxWeight: number,
  optimizer: SGD,
): { main: number; aux: number; loss: number } {
  const sum = { ignoreIndex: IGNORE_INDEX, reduction: "sum" as const };
  const mainSum = F.crossEntropy(main, masks, sum);
  const auxSum = aux === main ? mainSum : F.crossEntropy(aux, masks, sum);
  const totals = noGrad(() =>
    cat(
      [mainSum.detach(), auxSum.detach(), masks.ne(IGNORE_INDEX).sum()].map((t) =>
        t.double().reshape(1),
      ),
    ),
  );
  group.allReduce([totals]);
  const [mainAll, auxAll, valid] = totals.toArray();
  // No valid pixel anywhere: one process's mean would be NaN; here nothing is learnt.
  const scale = valid > 0 ? group.worldSize / valid : 0;
  const local = auxWeight > 0 ? mainSum.add(auxSum.mul(auxWeight)) : mainSum;
  local.mul(scale).backward();
  optimizer.step();
  const m = mainAll / valid;
  const a = auxAll / valid;
  return { main: m, aux: a, loss: auxWeight > 0 ? m + auxWeight * a : m };
}
