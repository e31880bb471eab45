// The few ATen calls detection needs that the tensor layer does not wrap.
import { callAten } from "../../tensor/opTable.js";
import { type Tensor, wrap } from "../../tensor/tensor.js";

/** Logical any along one dim. */
export const anyDim = (t: Tensor, dim: number): Tensor =>
  wrap(callAten("any.dim", t.handle, dim, false));

/** A copy of `t` with rows `idx` (dim 0) set to `value`. */
export const indexFill = (t: Tensor, idx: Tensor, value: number): Tensor =>
  wrap(callAten("index_fill.int_Scalar", t.handle, 0, idx.handle, value));

/** Fills `t` in place with draws uniform on [from, to) from the global generator. */
export const uniform_ = (t: Tensor, from: number, to: number): Tensor => {
  callAten("uniform_", t.handle, from, to);
  return t;
};

/** Indices that sort a 1-D tensor ascending. */
export const argsort = (t: Tensor): Tensor => wrap(callAten("argsort", t.handle, 0, false));

export const log2 = (t: Tensor): Tensor => wrap(callAten("log2", t.handle));
