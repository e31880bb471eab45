// BatchNorm1d/2d with PyTorch's running-statistics semantics (momentum or, with
// momentum null, a cumulative average; num_batches_tracked counted in training).
import { isGradEnabled } from "../tensor/autograd.js";
import { ones, scalar, zeros } from "../tensor/ops/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { batchNorm } from "./functional.js";
import { Module } from "./module.js";

/**
 * Options of {@link BatchNorm1d} and {@link BatchNorm2d} (PyTorch's defaults: eps 1e-5, momentum
 * 0.1).
 */
export interface BatchNormConfig {
  eps?: number;
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Training-mode normalisation with statistics over more than this process (SyncBatchNorm). */
export type BatchNormSync = (x: Tensor, p: BatchNormArgs) => Tensor;
/** What a BatchNorm layer hands its `sync` replacement. */
export interface BatchNormArgs {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  momentum: number;
  eps: number;
}

abstract class BatchNormBase extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  /** Set by convertSyncBatchNorm (src/distributed): replaces the training-mode statistics. */
  sync: BatchNormSync | null = null;
  /** Set by foldBatchNorm (src/models/fold.ts) once the conv before this layer holds its
   *  affine map: forward is then the identity, and refused where autograd would record. */
  folded = false;
  constructor(
    readonly numFeatures: number,
    config: BatchNormConfig,
    private readonly expectedDims: number[],
  ) {
    super();
    this.eps = config.eps ?? 1e-5;
    this.momentum = config.momentum === undefined ? 0.1 : config.momentum;
    const affine = config.affine ?? true;
    this.registerParameter("weight", affine ? ones([numFeatures]) : null);
    this.registerParameter("bias", affine ? zeros([numFeatures]) : null);
    const track = config.trackRunningStats ?? true;
    this.registerBuffer("running_mean", track ? zeros([numFeatures]) : null);
    this.registerBuffer("running_var", track ? ones([numFeatures]) : null);
    this.registerBuffer("num_batches_tracked", track ? scalar(0, { dtype: "int64" }) : null);
  }

  forward(x: Tensor): Tensor {
    if (this.folded) {
      if (isGradEnabled())
        throw new Error(
          `${this.constructor.name}(${this.numFeatures}) is folded into its convolution: the model is inference-only, run it under noGrad`,
        );
      return x;
    }
    if (!this.expectedDims.includes(x.ndim) || x.size(1) !== this.numFeatures) {
      throw new Error(
        `${this.constructor.name}(${this.numFeatures}) expects ${this.expectedDims.join(" or ")}-D input with ${this.numFeatures} channels but received shape [${x.shape}]`,
      );
    }
    const runningMean = this.getBuffer("running_mean");
    const runningVar = this.getBuffer("running_var");
    let factor = this.momentum ?? 0;
    if (this.training && runningMean) {
      const n = this.getBuffer("num_batches_tracked");
      if (n) {
        n.add_(1);
        if (this.momentum === null) factor = 1 / n.item();
      }
    }
    const weight = this.getParameter("weight");
    const bias = this.getParameter("bias");
    if (this.training && this.sync)
      return this.sync(x, {
        weight,
        bias,
        runningMean,
        runningVar,
        momentum: factor,
        eps: this.eps,
      });
    return batchNorm(x, runningMean, runningVar, {
      weight,
      bias,
      training: this.training || runningMean === null,
      momentum: factor,
      eps: this.eps,
    });
  }
}

/** Batch normalisation over [N, C, H, W] input, with PyTorch's running statistics. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, config: BatchNormConfig = {}) {
    super(numFeatures, config, [4]);
  }
}

/** Batch normalisation over [N, C] or [N, C, L] input, with PyTorch's running statistics. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, config: BatchNormConfig = {}) {
    super(numFeatures, config, [2, 3]);
  }
}
