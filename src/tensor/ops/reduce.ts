// Reductions. `dim` omitted reduces over every element; a dim list reduces over those dims.
import { DTYPE_CODE, type DType } from "../dtype.js";
import { callAten } from "../opTable.js";
import { Tensor, wrap, wrapAll } from "../tensor.js";

type Dims = number | number[];
const dimList = (d: Dims): number[] => (Array.isArray(d) ? d : [d]);

export function sum(a: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  const dt = dtype === undefined ? null : DTYPE_CODE[dtype];
  return dim === undefined
    ? wrap(callAten("sum", a.handle, dt))
    : wrap(callAten("sum.dim_IntList", a.handle, dimList(dim), keepdim, dt));
}

export function mean(a: Tensor, dim?: Dims, keepdim = false): Tensor {
  return dim === undefined
    ? wrap(callAten("mean", a.handle))
    : wrap(callAten("mean.dim", a.handle, dimList(dim), keepdim));
}

/** Variance; `correction` 1 is Bessel's (PyTorch's default), 0 the population variance. */
export function variance(a: Tensor, dim?: Dims, correction = 1, keepdim = false): Tensor {
  return wrap(
    callAten(
      "var.dim",
      a.handle,
      dim === undefined ? null : dimList(dim),
      correction !== 0,
      keepdim,
    ),
  );
}

export function std(a: Tensor, dim?: Dims, correction = 1, keepdim = false): Tensor {
  return wrap(
    callAten(
      "std.dim",
      a.handle,
      dim === undefined ? null : dimList(dim),
      correction !== 0,
      keepdim,
    ),
  );
}

export const amax = (a: Tensor, dim: Dims, keepdim = false): Tensor =>
  wrap(callAten("amax", a.handle, dimList(dim), keepdim));
export const amin = (a: Tensor, dim: Dims, keepdim = false): Tensor =>
  wrap(callAten("amin", a.handle, dimList(dim), keepdim));

/** Maximum over everything, or [values, indices] along a dim. */
export function max(a: Tensor): Tensor;
export function max(a: Tensor, dim: number, keepdim?: boolean): [Tensor, Tensor];
export function max(a: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  if (dim === undefined) return wrap(callAten("max", a.handle));
  const [v, i] = wrapAll(callAten("max.dim", a.handle, dim, keepdim));
  return [v, i];
}

export function min(a: Tensor): Tensor;
export function min(a: Tensor, dim: number, keepdim?: boolean): [Tensor, Tensor];
export function min(a: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  if (dim === undefined) return wrap(callAten("min", a.handle));
  const [v, i] = wrapAll(callAten("min.dim", a.handle, dim, keepdim));
  return [v, i];
}

export const argmax = (a: Tensor, dim?: number, keepdim = false): Tensor =>
  wrap(callAten("argmax", a.handle, dim ?? null, keepdim));
export const argmin = (a: Tensor, dim?: number, keepdim = false): Tensor =>
  wrap(callAten("argmin", a.handle, dim ?? null, keepdim));

/** The k largest (or smallest) values along dim: [values, indices]. */
export function topk(
  a: Tensor,
  k: number,
  dim = -1,
  largest = true,
  sorted = true,
): [Tensor, Tensor] {
  const [v, i] = wrapAll(callAten("topk", a.handle, k, dim, largest, sorted));
  return [v, i];
}

export function sort(a: Tensor, dim = -1, descending = false): [Tensor, Tensor] {
  const [v, i] = wrapAll(callAten("sort", a.handle, dim, descending));
  return [v, i];
}

export const prod = (a: Tensor): Tensor => wrap(callAten("prod", a.handle));
export const all = (a: Tensor): Tensor => wrap(callAten("all", a.handle));
export const any = (a: Tensor): Tensor => wrap(callAten("any", a.handle));
export const logsumexp = (a: Tensor, dim: Dims, keepdim = false): Tensor =>
  wrap(callAten("logsumexp", a.handle, dimList(dim), keepdim));
export const cumsum = (a: Tensor, dim: number): Tensor => wrap(callAten("cumsum", a.handle, dim));
/** The p-norm over dims (all elements when omitted). */
export const norm = (a: Tensor, p = 2, dim?: Dims, keepdim = false): Tensor =>
  wrap(
    callAten(
      "linalg_vector_norm",
      a.handle,
      { f: p },
      dim === undefined ? null : dimList(dim),
      keepdim,
    ),
  );

declare module "../tensor.js" {
  interface Tensor {
    sum(dim?: Dims, keepdim?: boolean, dtype?: DType): Tensor;
    mean(dim?: Dims, keepdim?: boolean): Tensor;
    var(dim?: Dims, correction?: number, keepdim?: boolean): Tensor;
    std(dim?: Dims, correction?: number, keepdim?: boolean): Tensor;
    amax(dim: Dims, keepdim?: boolean): Tensor;
    amin(dim: Dims, keepdim?: boolean): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean): [Tensor, Tensor];
    min(): Tensor;
    min(dim: number, keepdim?: boolean): [Tensor, Tensor];
    argmax(dim?: number, keepdim?: boolean): Tensor;
    argmin(dim?: number, keepdim?: boolean): Tensor;
    topk(k: number, dim?: number, largest?: boolean, sorted?: boolean): [Tensor, Tensor];
    sort(dim?: number, descending?: boolean): [Tensor, Tensor];
    logsumexp(dim: Dims, keepdim?: boolean): Tensor;
    cumsum(dim: number): Tensor;
    norm(p?: number, dim?: Dims, keepdim?: boolean): Tensor;
  }
}

const P = Tensor.prototype;
P.sum = function (dim, keepdim, dtype) {
  return sum(this, dim, keepdim, dtype);
};
P.mean = function (dim, keepdim) {
  return mean(this, dim, keepdim);
};
P.var = function (dim, correction, keepdim) {
  return variance(this, dim, correction, keepdim);
};
P.std = function (dim, correction, keepdim) {
  return std(this, dim, correction, keepdim);
};
P.amax = function (dim, keepdim) {
  return amax(this, dim, keepdim);
};
P.amin = function (dim, keepdim) {
  return amin(this, dim, keepdim);
};
P.max = function (this: Tensor, dim?: number, keepdim?: boolean) {
  return dim === undefined ? max(this) : max(this, dim, keepdim);
} as Tensor["max"];
P.min = function (this: Tensor, dim?: number, keepdim?: boolean) {
  return dim === undefined ? min(this) : min(this, dim, keepdim);
} as Tensor["min"];
P.argmax = function (dim, keepdim) {
  return argmax(this, dim, keepdim);
};
P.argmin = function (dim, keepdim) {
  return argmin(this, dim, keepdim);
};
P.topk = function (k, dim, largest, sorted) {
  return topk(this, k, dim, largest, sorted);
};
P.sort = function (dim, descending) {
  return sort(this, dim, descending);
};
P.logsumexp = function (dim, keepdim) {
  return logsumexp(this, dim, keepdim);
};
P.cumsum = function (dim) {
  return cumsum(this, dim);
};
P.norm = function (p, dim, keepdim) {
  return norm(this, p, dim, keepdim);
};
