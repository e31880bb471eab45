// Neural-network operators with torch.nn.functional's names and defaults, camelCased.
// Argument checks that libtorch would report obscurely are done here, in words.
import { callAten } from "../tensor/opTable.js";
import { type Tensor, wrap, wrapAll } from "../tensor/tensor.js";

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : v);

/** Stride, padding, dilation and groups of {@link conv2d}. */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  o: Conv2dOptions = {},
): Tensor {
  const groups = o.groups ?? 1;
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new Error(`conv2d expects input of shape [N, C, H, W] but received [${x.shape}]`);
  }
  const cin = x.size(-3);
  if (cin !== weight.size(1) * groups) {
    throw new Error(
      `conv2d: input has ${cin} channels but the weight [${weight.shape}] with groups=${groups} expects ${weight.size(1) * groups}`,
    );
  }
  return wrap(
    callAten(
      "conv2d",
      x.handle,
      weight.handle,
      bias?.handle ?? null,
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      groups,
    ),
  );
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch normalisation; in training mode the running statistics are updated in place. */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  o: BatchNormOptions = {},
): Tensor {
  return wrap(
    callAten(
      "batch_norm",
      x.handle,
      o.weight?.handle ?? null,
      o.bias?.handle ?? null,
      runningMean?.handle ?? null,
      runningVar?.handle ?? null,
      o.training ?? false,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
      true,
    ),
  );
}

export const linear = (x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor =>
  wrap(callAten("linear", x.handle, weight.handle, bias?.handle ?? null));

export const relu = (x: Tensor): Tensor => wrap(callAten("relu", x.handle));
export const relu6 = (x: Tensor): Tensor => wrap(callAten("hardtanh", x.handle, 0, 6));
export const sigmoid = (x: Tensor): Tensor => wrap(callAten("sigmoid", x.handle));
export const gelu = (x: Tensor, approximate: "none" | "tanh" = "none"): Tensor =>
  wrap(callAten("gelu", x.handle, approximate));
export const softmax = (x: Tensor, dim: number): Tensor =>
  wrap(callAten("softmax.int", x.handle, dim, null));
export const logSoftmax = (x: Tensor, dim: number): Tensor =>
  wrap(callAten("log_softmax.int", x.handle, dim, null));

/** Stride and padding of the pooling functions. */
export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  o: PoolOptions & { dilation?: Pair } = {},
): Tensor {
  return wrap(
    callAten(
      "max_pool2d",
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.ceilMode ?? false,
    ),
  );
}

export function avgPool2d(
  x: Tensor,
  kernel: Pair,
  o: PoolOptions & { countIncludePad?: boolean } = {},
): Tensor {
  return wrap(
    callAten(
      "avg_pool2d",
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
      null,
    ),
  );
}

export const adaptiveAvgPool2d = (x: Tensor, size: Pair): Tensor =>
  wrap(callAten("adaptive_avg_pool2d", x.handle, pair(size)));

/** Zeroes elements with probability p (scaled by 1/(1−p)) when training. */
export const dropout = (x: Tensor, p = 0.5, training = true): Tensor =>
  wrap(callAten("dropout", x.handle, p, training));
/** Zeroes whole channels with probability p when training (nn.Dropout2d). */
export const dropout2d = (x: Tensor, p = 0.5, training = true): Tensor =>
  wrap(callAten("feature_dropout", x.handle, p, training));

/** Options of {@link interpolate}. */
export interface InterpolateOptions {
  size?: Pair;
  scaleFactor?: number | [number, number];
  mode?: "bilinear" | "nearest";
  alignCorners?: boolean;
}

export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  if ((o.size === undefined) === (o.scaleFactor === undefined)) {
    throw new Error("interpolate needs exactly one of size or scaleFactor");
  }
  const size = o.size === undefined ? null : pair(o.size);
  const scales =
    o.scaleFactor === undefined
      ? null
      : typeof o.scaleFactor === "number"
        ? [o.scaleFactor, o.scaleFactor]
        : o.scaleFactor;
  if ((o.mode ?? "nearest") === "nearest") {
    if (o.alignCorners !== undefined) throw new Error("alignCorners only applies to bilinear mode");
    return wrap(callAten("upsample_nearest2d.vec", x.handle, size, scales));
  }
  return wrap(callAten("upsample_bilinear2d.vec", x.handle, size, o.alignCorners ?? false, scales));
}

export function gridSample(
  x: Tensor,
  grid: Tensor,
  o: {
    mode?: "bilinear" | "nearest";
    paddingMode?: "zeros" | "border" | "reflection";
    alignCorners?: boolean;
  } = {},
): Tensor {
  const mode = { bilinear: 0, nearest: 1 }[o.mode ?? "bilinear"];
  const pad = { zeros: 0, border: 1, reflection: 2 }[o.paddingMode ?? "zeros"];
  return wrap(callAten("grid_sampler", x.handle, grid.handle, mode, pad, o.alignCorners ?? false));
}

/** Pads the last dims: [left, right, top, bottom, ...] as torch.nn.functional.pad. */
export function pad(
  x: Tensor,
  widths: number[],
  mode: "constant" | "reflect" | "replicate" = "constant",
  value = 0,
): Tensor {
  if (mode === "constant") return wrap(callAten("constant_pad_nd", x.handle, widths, value));
  return wrap(
    callAten(mode === "reflect" ? "reflection_pad2d" : "replication_pad2d", x.handle, widths),
  );
}

/** How a loss reduces over the batch, as in PyTorch. */
export type Reduction = "none" | "mean" | "sum";
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/** Cross-entropy on logits [N, C, ...] against class indices [N, ...] (int64). */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  if (target.dtype !== "int64") {
    throw new Error(
      `crossEntropy expects int64 class indices as target but received ${target.dtype}`,
    );
  }
  return wrap(
    callAten(
      "cross_entropy_loss",
      logits.handle,
      target.handle,
      o.weight?.handle ?? null,
      REDUCTION[o.reduction ?? "mean"],
      o.ignoreIndex ?? -100,
      o.labelSmoothing ?? 0,
    ),
  );
}

function sameShape(name: string, a: Tensor, b: Tensor): void {
  const sa = a.shape;
  const sb = b.shape;
  if (sa.length !== sb.length || sa.some((s, i) => s !== sb[i])) {
    throw new Error(`${name}: input shape [${sa}] and target shape [${sb}] differ`);
  }
}

export function mseLoss(x: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  sameShape("mseLoss", x, target);
  return wrap(callAten("mse_loss", x.handle, target.handle, REDUCTION[reduction]));
}

export function smoothL1Loss(
  x: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
  beta = 1,
): Tensor {
  sameShape("smoothL1Loss", x, target);
  return wrap(callAten("smooth_l1_loss", x.handle, target.handle, REDUCTION[reduction], beta));
}

/** KL divergence with log-probabilities as input; "batchmean" divides the sum by N. */
export function klDiv(
  logInput: Tensor,
  target: Tensor,
  reduction: Reduction | "batchmean" = "mean",
  logTarget = false,
): Tensor {
  if (reduction === "batchmean") {
    const s = wrap(callAten("kl_div", logInput.handle, target.handle, REDUCTION.sum, logTarget));
    const out = s.div(logInput.size(0));
    s.dispose();
    return out;
  }
  return wrap(callAten("kl_div", logInput.handle, target.handle, REDUCTION[reduction], logTarget));
}

export function binaryCrossEntropyWithLogits(
  x: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  sameShape("binaryCrossEntropyWithLogits", x, target);
  return wrap(
    callAten(
      "binary_cross_entropy_with_logits",
      x.handle,
      target.handle,
      o.weight?.handle ?? null,
      o.posWeight?.handle ?? null,
      REDUCTION[o.reduction ?? "mean"],
    ),
  );
}

/** Max-pool that also returns the argmax indices: [values, indices]. */
export function maxPool2dWithIndices(
  x: Tensor,
  kernel: Pair,
  o: PoolOptions = {},
): [Tensor, Tensor] {
  const [v, i] = wrapAll(
    callAten(
      "max_pool2d_with_indices",
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      [1, 1],
      o.ceilMode ?? false,
    ),
  );
  return [v, i];
}
