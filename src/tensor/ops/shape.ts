// Views, reshapes, joins, indexing and conversions.
import { DTYPE_CODE, type DType } from "../dtype.js";
import { callAten } from "../opTable.js";
import { Tensor, wrap, wrapAll } from "../tensor.js";

export const view = (a: Tensor, shape: readonly number[]): Tensor =>
  wrap(callAten("view", a.handle, [...shape]));
export const reshape = (a: Tensor, shape: readonly number[]): Tensor =>
  wrap(callAten("reshape", a.handle, [...shape]));
export const permute = (a: Tensor, dims: readonly number[]): Tensor =>
  wrap(callAten("permute", a.handle, [...dims]));
export const transpose = (a: Tensor, d0: number, d1: number): Tensor =>
  wrap(callAten("transpose.int", a.handle, d0, d1));
export const flatten = (a: Tensor, start = 0, end = -1): Tensor =>
  wrap(callAten("flatten.using_ints", a.handle, start, end));
export const squeeze = (a: Tensor, dim?: number): Tensor =>
  dim === undefined
    ? wrap(callAten("squeeze", a.handle))
    : wrap(callAten("squeeze.dim", a.handle, dim));
export const unsqueeze = (a: Tensor, dim: number): Tensor =>
  wrap(callAten("unsqueeze", a.handle, dim));
export const expand = (a: Tensor, shape: readonly number[]): Tensor =>
  wrap(callAten("expand", a.handle, [...shape], false));
export const repeat = (a: Tensor, reps: readonly number[]): Tensor =>
  wrap(callAten("repeat", a.handle, [...reps]));
export const flip = (a: Tensor, dims: readonly number[]): Tensor =>
  wrap(callAten("flip", a.handle, [...dims]));
export const clone = (a: Tensor): Tensor => wrap(callAten("clone", a.handle));
export const detach = (a: Tensor): Tensor => wrap(callAten("detach", a.handle));

export const cat = (ts: readonly Tensor[], dim = 0): Tensor =>
  wrap(
    callAten(
      "cat",
      ts.map((t) => t.handle),
      dim,
    ),
  );
export const stack = (ts: readonly Tensor[], dim = 0): Tensor =>
  wrap(
    callAten(
      "stack",
      ts.map((t) => t.handle),
      dim,
    ),
  );

/** Splits into chunks of `size` along dim, or into the given sizes. */
export function split(a: Tensor, size: number | readonly number[], dim = 0): Tensor[] {
  return typeof size === "number"
    ? wrapAll(callAten("split.Tensor", a.handle, size, dim))
    : wrapAll(callAten("split_with_sizes", a.handle, [...size], dim));
}
export const chunk = (a: Tensor, chunks: number, dim = 0): Tensor[] =>
  wrapAll(callAten("chunk", a.handle, chunks, dim));
export const narrow = (a: Tensor, dim: number, start: number, length: number): Tensor =>
  wrap(callAten("narrow", a.handle, dim, start, length));
export const select = (a: Tensor, dim: number, index: number): Tensor =>
  wrap(callAten("select.int", a.handle, dim, index));
/** Python's a[..., start:end:step, ...] on one dim; null bounds mean the ends. */
export const slice = (
  a: Tensor,
  dim: number,
  start: number | null = null,
  end: number | null = null,
  step = 1,
): Tensor => wrap(callAten("slice.Tensor", a.handle, dim, start, end, step));

export const indexSelect = (a: Tensor, dim: number, index: Tensor): Tensor =>
  wrap(callAten("index_select", a.handle, dim, index.handle));
export const gather = (a: Tensor, dim: number, index: Tensor): Tensor =>
  wrap(callAten("gather", a.handle, dim, index.handle, false));
export const scatter = (a: Tensor, dim: number, index: Tensor, src: Tensor): Tensor =>
  wrap(callAten("scatter.src", a.handle, dim, index.handle, src.handle));
export const maskedSelect = (a: Tensor, mask: Tensor): Tensor =>
  wrap(callAten("masked_select", a.handle, mask.handle));
export const nonzero = (a: Tensor): Tensor => wrap(callAten("nonzero", a.handle));
export const oneHot = (labels: Tensor, numClasses = -1): Tensor =>
  wrap(callAten("one_hot", labels.handle, numClasses));

/** One entry per leading dim: a number selects, a [start, end, step?] range slices,
 * null keeps the dim whole, a tensor indexes (advanced indexing, like a[idx]). */
export type IndexSpec = number | null | readonly [number | null, number | null, number?] | Tensor;

export function index(a: Tensor, ...specs: IndexSpec[]): Tensor {
  let out = a;
  let dim = 0;
  const advanced: (Tensor | null)[] = [];
  let hasAdvanced = false;
  const step = (next: Tensor): void => {
    if (out !== a) out.dispose();
    out = next;
  };
  for (const s of specs) {
    if (typeof s === "number") {
      step(select(out, dim, s));
    } else if (s === null) {
      advanced.push(null);
      dim++;
    } else if (s instanceof Tensor) {
      advanced.push(s);
      hasAdvanced = true;
      dim++;
    } else {
      step(slice(out, dim, s[0], s[1], s[2] ?? 1));
      advanced.push(null);
      dim++;
    }
  }
  if (hasAdvanced)
    step(
      wrap(
        callAten(
          "index.Tensor",
          out.handle,
          advanced.map((t) => t?.handle ?? null),
        ),
      ),
    );
  return out === a ? view(a, a.shape) : out;
}

/** Converts dtype and/or device; returns a new tensor (never `this`). */
export function to(a: Tensor, target: { dtype?: DType; device?: string }): Tensor {
  const dtype = DTYPE_CODE[target.dtype ?? a.dtype];
  if (target.device !== undefined && target.device !== a.device) {
    return wrap(callAten("to.device", a.handle, target.device, dtype, false, true));
  }
  return wrap(callAten("to.dtype", a.handle, dtype, false, true));
}

/** A contiguous copy in the given memory format ("channelsLast" is NHWC in memory). */
export function contiguous(
  a: Tensor,
  format: "contiguous" | "channelsLast" = "contiguous",
): Tensor {
  return wrap(callAten("contiguous", a.handle, format === "channelsLast" ? 2 : 0));
}

declare module "../tensor.js" {
  interface Tensor {
    view(...shape: number[]): Tensor;
    reshape(...shape: number[]): Tensor;
    permute(...dims: number[]): Tensor;
    transpose(d0: number, d1: number): Tensor;
    /** 2-D transpose. */
    t(): Tensor;
    flatten(start?: number, end?: number): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    expand(...shape: number[]): Tensor;
    expandAs(other: Tensor): Tensor;
    repeat(...reps: number[]): Tensor;
    flip(...dims: number[]): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    split(size: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    narrow(dim: number, start: number, length: number): Tensor;
    select(dim: number, index: number): Tensor;
    slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
    index(...specs: IndexSpec[]): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    to(target: DType | { dtype?: DType; device?: string }): Tensor;
    float(): Tensor;
    double(): Tensor;
    long(): Tensor;
    contiguous(format?: "contiguous" | "channelsLast"): Tensor;
    channelsLast(): Tensor;
  }
}

const P = Tensor.prototype;
P.view = function (...shape) {
  return view(this, shape);
};
P.reshape = function (...shape) {
  return reshape(this, shape);
};
P.permute = function (...dims) {
  return permute(this, dims);
};
P.transpose = function (d0, d1) {
  return transpose(this, d0, d1);
};
P.t = function () {
  return wrap(callAten("t", this.handle));
};
P.flatten = function (start, end) {
  return flatten(this, start, end);
};
P.squeeze = function (dim) {
  return squeeze(this, dim);
};
P.unsqueeze = function (dim) {
  return unsqueeze(this, dim);
};
P.expand = function (...shape) {
  return expand(this, shape);
};
P.expandAs = function (other) {
  return expand(this, other.shape);
};
P.repeat = function (...reps) {
  return repeat(this, reps);
};
P.flip = function (...dims) {
  return flip(this, dims);
};
P.clone = function () {
  return clone(this);
};
P.detach = function () {
  return detach(this);
};
P.split = function (size, dim) {
  return split(this, size, dim);
};
P.chunk = function (chunks, dim) {
  return chunk(this, chunks, dim);
};
P.narrow = function (dim, start, length) {
  return narrow(this, dim, start, length);
};
P.select = function (dim, i) {
  return select(this, dim, i);
};
P.slice = function (dim, start, end, step) {
  return slice(this, dim, start, end, step);
};
P.index = function (...specs) {
  return index(this, ...specs);
};
P.indexSelect = function (dim, i) {
  return indexSelect(this, dim, i);
};
P.gather = function (dim, i) {
  return gather(this, dim, i);
};
P.to = function (target) {
  return to(this, typeof target === "string" ? { dtype: target } : target);
};
P.float = function () {
  return to(this, { dtype: "float32" });
};
P.double = function () {
  return to(this, { dtype: "float64" });
};
P.long = function () {
  return to(this, { dtype: "int64" });
};
P.contiguous = function (format) {
  return contiguous(this, format);
};
P.channelsLast = function () {
  return contiguous(this, "channelsLast");
};
