// Elementwise arithmetic, comparisons and unary math, with PyTorch's broadcasting and type
// promotion (both done by ATen). A number operand uses the op's Scalar overload.
import { aten, atenInPlace, callAten, callAtenInPlace } from "../opTable.js";
import { Tensor, wrap } from "../tensor.js";

export type Operand = Tensor | number;

// Binary ops are the hottest path of an optimiser step: each gets its two overloads bound
// once, and the call passes a fixed argument list (no rest arrays). An alpha of 1 is left
// to the schema's default, which the native side does not have to convert.
type BinaryFn = (a: Tensor, b: Operand) => Tensor;
type AlphaFn = (a: Tensor, b: Operand, alpha?: number) => Tensor;

function binaryOp(name: string): BinaryFn {
  const onTensor = aten(`${name}.Tensor`);
  const onScalar = aten(`${name}.Scalar`);
  return (a, b) =>
    wrap(typeof b === "number" ? onScalar(a.handle, b) : onTensor(a.handle, b.handle));
}

function alphaOp(name: string): AlphaFn {
  const onTensor = aten(`${name}.Tensor`);
  const onScalar = aten(`${name}.Scalar`);
  return (a, b, alpha = 1) => {
    if (typeof b === "number") return wrap(onScalar(a.handle, b, alpha));
    return wrap(alpha === 1 ? onTensor(a.handle, b.handle) : onTensor(a.handle, b.handle, alpha));
  };
}

// In place: a += alpha·b and the like, bound once as above; an alpha of 1 is the default.
function inPlaceOp(name: string): (a: Tensor, b: Operand, alpha?: number) => Tensor {
  const onTensor = atenInPlace(`${name}.Tensor`);
  const onScalar = atenInPlace(`${name}.Scalar`);
  return (a, b, alpha = 1) => {
    if (typeof b === "number") {
      if (alpha === 1) onScalar(a.handle, b);
      else onScalar(a.handle, b, alpha);
    } else if (alpha === 1) onTensor(a.handle, b.handle);
    else onTensor(a.handle, b.handle, alpha);
    return a;
  };
}
const addInPlace = inPlaceOp("add_");
const subInPlace = inPlaceOp("sub_");
const mulInPlace = inPlaceOp("mul_");
const divInPlace = inPlaceOp("div_");

/** a + alpha·b */
export const add: AlphaFn = alphaOp("add");
/** a − alpha·b */
export const sub: AlphaFn = alphaOp("sub");
export const mul: BinaryFn = binaryOp("mul");
const trueDiv: BinaryFn = binaryOp("div");
/** True division; `roundingMode` "trunc" or "floor" for integer-style division. */
export function div(a: Tensor, b: Operand, roundingMode?: "trunc" | "floor"): Tensor {
  if (roundingMode === undefined) return trueDiv(a, b);
  return typeof b === "number"
    ? wrap(callAten("div.Scalar_mode", a.handle, b, roundingMode))
    : wrap(callAten("div.Tensor_mode", a.handle, b.handle, roundingMode));
}
export function pow(a: Tensor, e: Operand): Tensor {
  return typeof e === "number"
    ? wrap(callAten("pow.Tensor_Scalar", a.handle, e))
    : wrap(callAten("pow.Tensor_Tensor", a.handle, e.handle));
}
export const maximum = (a: Tensor, b: Tensor): Tensor =>
  wrap(callAten("maximum", a.handle, b.handle));
export const minimum = (a: Tensor, b: Tensor): Tensor =>
  wrap(callAten("minimum", a.handle, b.handle));

export const eq: BinaryFn = binaryOp("eq");
export const ne: BinaryFn = binaryOp("ne");
export const lt: BinaryFn = binaryOp("lt");
export const le: BinaryFn = binaryOp("le");
export const gt: BinaryFn = binaryOp("gt");
export const ge: BinaryFn = binaryOp("ge");
export const logicalAnd = (a: Tensor, b: Tensor): Tensor =>
  wrap(callAten("logical_and", a.handle, b.handle));
export const logicalOr = (a: Tensor, b: Tensor): Tensor =>
  wrap(callAten("logical_or", a.handle, b.handle));
export const logicalNot = (a: Tensor): Tensor => wrap(callAten("logical_not", a.handle));

/** Elementwise choice: cond ? a : b. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (typeof a === "number" || typeof b === "number") {
    const ref = typeof a === "number" ? (b as Tensor) : a;
    const ta = typeof a === "number" ? fullLikeScalar(ref, a) : a;
    const tb = typeof b === "number" ? fullLikeScalar(ref, b) : b;
    return wrap(callAten("where.self", cond.handle, ta.handle, tb.handle));
  }
  return wrap(callAten("where.self", cond.handle, a.handle, b.handle));
}

function fullLikeScalar(ref: Tensor, v: number): Tensor {
  return wrap(callAten("full_like", ref.handle, v));
}

export function maskedFill(a: Tensor, mask: Tensor, value: number): Tensor {
  return wrap(callAten("masked_fill.Scalar", a.handle, mask.handle, value));
}

export function clamp(a: Tensor, min?: number | null, max?: number | null): Tensor {
  return wrap(callAten("clamp", a.handle, min ?? null, max ?? null));
}

const UNARY = [
  "neg",
  "abs",
  "sign",
  "sqrt",
  "rsqrt",
  "exp",
  "log",
  "log1p",
  "sin",
  "cos",
  "tanh",
  "sigmoid",
  "relu",
  "floor",
  "ceil",
  "round",
  "reciprocal",
  "erf",
  "square",
] as const;
export type UnaryName = (typeof UNARY)[number];

export function unary(name: UnaryName, a: Tensor): Tensor {
  return wrap(callAten(name, a.handle));
}

declare module "../tensor.js" {
  interface Tensor {
    add(b: Operand, alpha?: number): Tensor;
    sub(b: Operand, alpha?: number): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand, roundingMode?: "trunc" | "floor"): Tensor;
    pow(e: Operand): Tensor;
    eq(b: Operand): Tensor;
    ne(b: Operand): Tensor;
    lt(b: Operand): Tensor;
    le(b: Operand): Tensor;
    gt(b: Operand): Tensor;
    ge(b: Operand): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    reciprocal(): Tensor;
    erf(): Tensor;
    square(): Tensor;
    add_(b: Operand, alpha?: number): Tensor;
    sub_(b: Operand, alpha?: number): Tensor;
    mul_(b: Operand): Tensor;
    div_(b: Operand): Tensor;
    clamp_(min?: number | null, max?: number | null): Tensor;
    relu_(): Tensor;
    /** this += value · t1 · t2 */
    addcmul_(t1: Tensor, t2: Tensor, value?: number): Tensor;
    /** this += value · t1 / t2 */
    addcdiv_(t1: Tensor, t2: Tensor, value?: number): Tensor;
    /** this += weight · (end − this) */
    lerp_(end: Tensor, weight: number): Tensor;
    fill_(v: number): Tensor;
    zero_(): Tensor;
    copy_(src: Tensor): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (b, alpha) {
  return add(this, b, alpha);
};
P.sub = function (b, alpha) {
  return sub(this, b, alpha);
};
P.mul = function (b) {
  return mul(this, b);
};
P.div = function (b, mode) {
  return div(this, b, mode);
};
P.pow = function (e) {
  return pow(this, e);
};
P.eq = function (b) {
  return eq(this, b);
};
P.ne = function (b) {
  return ne(this, b);
};
P.lt = function (b) {
  return lt(this, b);
};
P.le = function (b) {
  return le(this, b);
};
P.gt = function (b) {
  return gt(this, b);
};
P.ge = function (b) {
  return ge(this, b);
};
P.maskedFill = function (mask, value) {
  return maskedFill(this, mask, value);
};
P.clamp = function (min, max) {
  return clamp(this, min, max);
};
for (const name of UNARY) {
  (P as unknown as Record<string, () => Tensor>)[name] = function (this: Tensor) {
    return unary(name, this);
  };
}
P.add_ = function (b, alpha = 1) {
  return addInPlace(this, b, alpha);
};
P.sub_ = function (b, alpha = 1) {
  return subInPlace(this, b, alpha);
};
P.mul_ = function (b) {
  return mulInPlace(this, b);
};
P.div_ = function (b) {
  return divInPlace(this, b);
};
P.clamp_ = function (min, max) {
  callAtenInPlace("clamp_", this.handle, min ?? null, max ?? null);
  return this;
};
P.relu_ = function () {
  callAtenInPlace("relu_", this.handle);
  return this;
};
P.addcmul_ = function (t1, t2, value = 1) {
  callAtenInPlace("addcmul_", this.handle, t1.handle, t2.handle, value);
  return this;
};
P.addcdiv_ = function (t1, t2, value = 1) {
  callAtenInPlace("addcdiv_", this.handle, t1.handle, t2.handle, value);
  return this;
};
P.lerp_ = function (end, weight) {
  callAtenInPlace("lerp_.Scalar", this.handle, end.handle, weight);
  return this;
};
P.fill_ = function (v) {
  callAtenInPlace("fill_.Scalar", this.handle, v);
  return this;
};
P.zero_ = function () {
  callAtenInPlace("zero_", this.handle);
  return this;
};
P.copy_ = function (src) {
  callAtenInPlace("copy_", this.handle, src.handle, false);
  return this;
};
