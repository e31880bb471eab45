// Creating tensors: from JS data, constants, ranges and random draws. Random draws use
// libtorch's global generator, so `manualSeed(s)` gives the same numbers as torch.manual_seed(s).
import { native } from "../../native/binding.js";
import { DTYPE_CODE, type DType, ITEM_SIZE } from "../dtype.js";
import { callAten } from "../opTable.js";
import { Tensor, type TypedArray, wrap } from "../tensor.js";

/** Data type, device and autograd flag of a new tensor. */
export interface CreateOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof BigInt64Array) return "int64";
  return "uint8";
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  let out = t;
  if (o.device !== undefined && o.device !== "cpu") {
    out = wrap(callAten("to.device", t.handle, o.device, DTYPE_CODE[t.dtype]));
    t.dispose();
  }
  if (o.requiresGrad) out.requiresGrad_(true);
  return out;
}

/**
 * A tensor holding a copy of `data`. With a TypedArray the dtype follows the array unless
 * given; with raw bytes (Uint8Array) and an explicit dtype the bytes are reinterpreted.
 */
export function fromArray(
  data: TypedArray | readonly number[],
  shape?: readonly number[],
  opts: CreateOptions = {},
): Tensor {
  let arr: TypedArray;
  let dtype: DType;
  if (Array.isArray(data)) {
    dtype = opts.dtype ?? "float32";
    arr = toTyped(data as number[], dtype);
  } else {
    arr = data as TypedArray;
    const natural = dtypeOfArray(arr);
    dtype = opts.dtype ?? natural;
    if (dtype !== natural && !(arr instanceof Uint8Array)) {
      arr = toTyped(Array.from(arr as ArrayLike<number | bigint>, Number), dtype);
    }
  }
  const n = arr.byteLength / ITEM_SIZE[dtype];
  const sh = shape ? [...shape] : [n];
  const t = new Tensor(native.fromBuffer(arr, sh, DTYPE_CODE[dtype]));
  return finish(t, opts);
}

function toTyped(v: number[], dtype: DType): TypedArray {
  switch (dtype) {
    case "float32":
      return Float32Array.from(v);
    case "float64":
      return Float64Array.from(v);
    case "int32":
      return Int32Array.from(v);
    case "int16":
      return Int16Array.from(v);
    case "int8":
      return Int8Array.from(v);
    case "int64":
      return BigInt64Array.from(v, (x) => BigInt(Math.trunc(x)));
    case "uint8":
    case "bool":
      return Uint8Array.from(v, (x) => (dtype === "bool" ? (x ? 1 : 0) : x));
    default:
      throw new Error(`Cannot build a ${dtype} tensor from numbers; create float32 and convert`);
  }
}

/** A 0-dimensional tensor. */
export function scalar(v: number, opts: CreateOptions = {}): Tensor {
  return fromArray([v], [], opts);
}

function factory(name: string, shape: readonly number[], o: CreateOptions, ...pre: unknown[]) {
  const args = [...pre, [...shape], DTYPE_CODE[o.dtype ?? "float32"], undefined, o.device ?? null];
  const t = wrap(callAten(name, ...(args as never[])));
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** A tensor of zeros. */
export const zeros = (shape: readonly number[], o: CreateOptions = {}): Tensor =>
  factory("zeros", shape, o);
/** A tensor of ones. */
export const ones = (shape: readonly number[], o: CreateOptions = {}): Tensor =>
  factory("ones", shape, o);
/** An uninitialised tensor of the given shape. */
export const empty = (shape: readonly number[], o: CreateOptions = {}): Tensor =>
  factory("empty.memory_format", shape, o);
/** Uniform on [0, 1). */
export const rand = (shape: readonly number[], o: CreateOptions = {}): Tensor =>
  factory("rand", shape, o);
/** Standard normal. */
export const randn = (shape: readonly number[], o: CreateOptions = {}): Tensor =>
  factory("randn", shape, o);

/** A tensor of the given shape filled with `value`. */
export function full(shape: readonly number[], value: number, o: CreateOptions = {}): Tensor {
  const t = wrap(
    callAten(
      "full",
      [...shape],
      value,
      DTYPE_CODE[o.dtype ?? "float32"],
      undefined,
      o.device ?? null,
    ),
  );
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Integers uniform on [low, high). */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  o: CreateOptions = {},
): Tensor {
  return wrap(
    callAten(
      "randint.low",
      low,
      high,
      [...shape],
      DTYPE_CODE[o.dtype ?? "int64"],
      undefined,
      o.device ?? null,
    ),
  );
}

/** A random permutation of 0..n−1 (int64). */
export function randperm(n: number, o: CreateOptions = {}): Tensor {
  return wrap(callAten("randperm", n, DTYPE_CODE[o.dtype ?? "int64"], undefined, o.device ?? null));
}

/** Values from start to end (exclusive) by step; int64 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const integral = [s, e, step].every(Number.isInteger);
  const dtype = o.dtype ?? (integral ? "int64" : "float32");
  return wrap(
    callAten("arange.start_step", s, e, step, DTYPE_CODE[dtype], undefined, o.device ?? null),
  );
}

export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return wrap(
    callAten(
      "linspace",
      { f: start },
      { f: end },
      steps,
      DTYPE_CODE[o.dtype ?? "float32"],
      undefined,
      o.device ?? null,
    ),
  );
}

export function eye(n: number, o: CreateOptions = {}): Tensor {
  return wrap(callAten("eye", n, DTYPE_CODE[o.dtype ?? "float32"], undefined, o.device ?? null));
}

export const zerosLike = (t: Tensor): Tensor => wrap(callAten("zeros_like", t.handle));
export const onesLike = (t: Tensor): Tensor => wrap(callAten("ones_like", t.handle));
export const fullLike = (t: Tensor, v: number): Tensor => wrap(callAten("full_like", t.handle, v));
export const randLike = (t: Tensor): Tensor => wrap(callAten("rand_like", t.handle));
export const randnLike = (t: Tensor): Tensor => wrap(callAten("randn_like", t.handle));

/** Seeds libtorch's global generators (CPU and every CUDA device). */
export function manualSeed(seed: number | bigint): void {
  native.manualSeed(seed);
}

/** The global CPU generator's state, as torch.get_rng_state() (uint8 tensor). */
export function getRngState(): Tensor {
  return new Tensor(native.getRngState());
}

export function setRngState(state: Tensor): void {
  native.setRngState(state.handle);
}
