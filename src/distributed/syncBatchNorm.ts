// SyncBatchNorm: in training, batch statistics over every rank's samples. Each rank's
// per-channel sum, biased variance and count are gathered (as a differentiable sum of
// one-row-per-rank matrices, so the backward is reduced over ranks too) and combined
// exactly (the parallel-variance formula), then normalised as BatchNorm does.
import type { BatchNormArgs } from "../nn/batchnorm.js";
import { BatchNorm1d, BatchNorm2d } from "../nn/batchnorm.js";
import type { Module } from "../nn/module.js";
import { cat, fromArray, noGrad, type Tensor, tidy, zeros } from "../tensor/index.js";
import type { DistGroup } from "./group.js";

/**
 * The output exactly as ATen's CPU batch norm rounds it for the whole global batch in one
 * process: mean = float(Σx / N) (Σ in float64), var = float(Σ float(x − mean)² in float64) / N
 * in float32, invstd = float(1 / √(var + eps)) in float64, α = invstd·w and β = b − mean·α
 * (fused), y = x·α + β (fused, as its AVX2 kernel does). A plain float64 normalisation
 * differs from it by one rounding in about half the elements; downstream ReLUs then see
 * different signs where values sit near zero, and gradients differ far above rounding.
 * Needs one more all-reduce (the squared deviations around the rounded global mean).
 */
function atenRounded(
  group: DistGroup,
  x: Tensor,
  xd: Tensor,
  globalSum: Tensor,
  total: number,
  p: BatchNormArgs,
  dims: number[],
  shape: number[],
): Tensor {
  // tidy: the activation-sized temporaries go at once, not at the end of the step.
  return tidy(() =>
    noGrad(() => {
      const mean = globalSum.div(total).float();
      const d = x.sub(mean.view(...shape));
      // float32 squares, summed in float64 (no float64 copy of the activation).
      const sq = d.mul_(d).sum(dims, false, "float64");
      group.allReduce([sq]);
      const invStd = sq.float().div(total).double().add(p.eps).rsqrt().float();
      const alpha = (p.weight ? invStd.mul(p.weight) : invStd).double();
      let beta = mean.double().mul(alpha).neg();
      if (p.bias) beta = beta.add(p.bias.double());
      // Rounded to float32 as ATen keeps it; x·α + β below is then one rounding (fused).
      beta = beta.float().double();
      return xd
        .mul(alpha.view(...shape))
        .add_(beta.view(...shape))
        .float();
    }),
  );
}

/**
 * Where atenRounded reproduces ATen: CPU float32 in NCHW order with more than one value per
 * sample and channel. ATen reduces [N, C] (and channels-last) input by per-thread float32
 * partial sums, so one process's own result there depends on its thread count.
 */
function atenKernelIsExact(x: Tensor): boolean {
  const perSample = x.numel / (x.size(0) * x.size(1));
  return x.dtype === "float32" && x.device === "cpu" && perSample > 1 && x.isContiguous();
}

function syncForward(group: DistGroup, x: Tensor, p: BatchNormArgs): Tensor {
  const c = x.size(1);
  const dims = x.ndim === 4 ? [0, 2, 3] : x.ndim === 3 ? [0, 2] : [0];
  const n = x.numel / c;
  const shape = x.ndim === 4 ? [1, c, 1, 1] : x.ndim === 3 ? [1, c, 1] : [1, c];
  // Statistics in float64, as ATen's own batch norm accumulates them on the CPU.
  const xd = x.double();
  const sum = xd.sum(dims);
  const variance = xd.var(dims, 0);
  const row = cat([sum, variance, fromArray(new Float64Array([n]), [1])]).unsqueeze(0);
  const parts: Tensor[] = [];
  const f64 = { dtype: "float64" as const };
  if (group.rank > 0) parts.push(zeros([group.rank, 2 * c + 1], f64));
  parts.push(row);
  if (group.rank < group.worldSize - 1)
    parts.push(zeros([group.worldSize - group.rank - 1, 2 * c + 1], f64));
  const all = group.sumDifferentiable(cat(parts));
  const counts = all.narrow(1, 2 * c, 1); // [W, 1]
  const total = counts.sum();
  const sums = all.narrow(1, 0, c);
  const gSum = sums.sum(0);
  const gMean = gSum.div(total);
  const means = sums.div(counts);
  const gVar = all.narrow(1, c, c).add(means.sub(gMean).square()).mul(counts).sum(0).div(total);
  // The gradient is that of the normalisation in float64: the backward's per-channel sums
  // (the gradients of weight and bias, often sums of terms that nearly cancel) then
  // accumulate in float64 as ATen's CPU batch norm backward does. The value is ATen's own
  // rounding of it (added as a constant: y − y.detach() is exactly zero), so a rank's
  // output is bit for bit what one process with the whole batch computes.
  const invStd = gVar.add(p.eps).rsqrt();
  let y = xd.sub(gMean.view(...shape)).mul(invStd.view(...shape));
  if (p.weight) y = y.mul(p.weight.double().view(...shape));
  if (p.bias) y = y.add(p.bias.double().view(...shape));
  const count = total.item();
  if (atenKernelIsExact(x)) {
    const exact = atenRounded(group, x, xd, gSum.detach(), count, p, dims, shape);
    // exact + 0 with y's gradient, the zero taken to float32 before the add.
    y = exact.add(y.sub(y.detach()).float());
  } else y = y.to(x.dtype);
  if (p.runningMean && p.runningVar) {
    noGrad(() => {
      const m = p.momentum;
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
