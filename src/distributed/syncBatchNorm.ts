// SyncBatchNorm: in training, batch statistics over every rank's samples. Each rank's
// per-channel mean, biased variance and count are gathered (as a differentiable sum of
// one-row-per-rank matrices, so the backward is reduced over ranks too) and combined
// exactly (the parallel-variance formula), then normalised as BatchNorm does.
import type { BatchNormArgs } from "../nn/batchnorm.js";
import { BatchNorm1d, BatchNorm2d } from "../nn/batchnorm.js";
import type { Module } from "../nn/module.js";
import { cat, fromArray, noGrad, type Tensor, zeros } from "../tensor/index.js";
import type { DistGroup } from "./group.js";

function syncForward(group: DistGroup, x: Tensor, p: BatchNormArgs): Tensor {
  const c = x.size(1);
  const dims = x.ndim === 4 ? [0, 2, 3] : x.ndim === 3 ? [0, 2] : [0];
  const n = x.numel / c;
  const shape = x.ndim === 4 ? [1, c, 1, 1] : x.ndim === 3 ? [1, c, 1] : [1, c];
  // Statistics in float64, as ATen's own batch norm accumulates them on the CPU.
  const xd = x.double();
  const mean = xd.mean(dims);
  const variance = xd.var(dims, 0);
  const row = cat([mean, variance, fromArray(new Float64Array([n]), [1])]).unsqueeze(0);
  const parts: Tensor[] = [];
  const f64 = { dtype: "float64" as const };
  if (group.rank > 0) parts.push(zeros([group.rank, 2 * c + 1], f64));
  parts.push(row);
  if (group.rank < group.worldSize - 1)
    parts.push(zeros([group.worldSize - group.rank - 1, 2 * c + 1], f64));
  const all = group.sumDifferentiable(cat(parts));
  const counts = all.narrow(1, 2 * c, 1); // [W, 1]
  const total = counts.sum();
  const means = all.narrow(1, 0, c);
  const gMean = means.mul(counts).sum(0).div(total);
  const gVar = all.narrow(1, c, c).add(means.sub(gMean).square()).mul(counts).sum(0).div(total);
  // Normalised and scaled in float64 too: the backward's per-channel sums (the gradients of
  // weight and bias, often sums of terms that nearly cancel) then accumulate in float64 as
  // ATen's CPU batch norm backward does, and do not drift from one process's by rounding.
  const invStd = gVar.add(p.eps).rsqrt();
  let y = xd.sub(gMean.view(...shape)).mul(invStd.view(...shape));
  if (p.weight) y = y.mul(p.weight.double().view(...shape));
  if (p.bias) y = y.add(p.bias.double().view(...shape));
  y = y.to(x.dtype);
  if (p.runningMean && p.runningVar) {
    noGrad(() => {
      const m = p.momentum;
      const count = total.item();
      p.runningMean?.mul_(1 - m).add_(gMean.detach().float(), m);
      p.runningVar?.mul_(1 - m).add_(
        gVar
          .detach()
          .mul(count / Math.max(1, count - 1))
          .float(),
        m,
      );
    });
  }
  return y;
}

/** Makes every BatchNorm of `model` synchronise its training statistics over `group`. */
export function convertSyncBatchNorm(model: Module, group: DistGroup): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) {
      m.sync = (x, p) => syncForward(group, x, p);
      n++;
    }
  }
  return n;
}

/**
 * Whether a task uses SyncBatchNorm: as asked, else on for data-parallel runs of tasks
 * whose per-rank batches are small (segmentation, detection; their reference recipes use it).
 */
export function useSyncBn(asked: boolean | undefined, group: DistGroup | undefined): boolean {
  return group !== undefined && group.worldSize > 1 && (asked ?? true);
}
