// The Tensor class: a JS object owning one native handle. Operators are added to its
// prototype by the files in ./ops (one group of ops per file), so this file stays small.
import { isHandleValue, type NativeHandle, native, type OpResult } from "../native/binding.js";
import { type DType, dtypeFromCode, ITEM_SIZE } from "./dtype.js";
import { type Disposable, track } from "./scope.js";

/** The typed arrays tensor data is read into and created from. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array;

// The GC safety net, for tensors no scope will free. Registering costs ~0.8 µs, as much as
// a small op, so tensors created inside `tidy` are registered only if they escape it. A
// tensor disposed explicitly is not unregistered: its stale handle makes the native
// release a no-op.
const collector = new FinalizationRegistry<NativeHandle>((h) => native.dispose(h));

let setDataId = -1;
const setDataOp = (): number => {
  if (setDataId < 0) setDataId = native.lookupOp("aten::set_data", "").id;
  return setDataId;
};

/**
 * A libtorch tensor held through an opaque handle; ops are methods (PyTorch's names, camelCased).
 * Free it with dispose() or inside {@link tidy}.
 */
export class Tensor implements Disposable {
  #handle: NativeHandle;
  #meta: [number[], number, string] | undefined;
  #disposed = false;
  #watched = false;
  kept = false;

  /** Wraps a native handle; use the creation functions instead of calling this. */
  constructor(handle: NativeHandle) {
    this.#handle = handle;
    track(this);
  }

  /** Called when no scope owns this tensor any more: GC frees it if it becomes unreachable. */
  orphaned(): void {
    if (this.#watched || this.#disposed) return;
    this.#watched = true;
    collector.register(this, this.#handle);
  }

  /** The native handle, for the ops layer. */
  get handle(): NativeHandle {
    if (this.#disposed) throw new Error("Tensor has been disposed");
    return this.#handle;
  }

  #info(): [number[], number, string] {
    if (this.#meta === undefined) this.#meta = native.meta(this.handle);
    return this.#meta;
  }

  get shape(): number[] {
    return this.#info()[0].slice();
  }
  get dtype(): DType {
    return dtypeFromCode(this.#info()[1]);
  }
  get device(): string {
    return this.#info()[2];
  }
  get ndim(): number {
    return this.#info()[0].length;
  }
  get numel(): number {
    let n = 1;
    for (const s of this.#info()[0]) n *= s;
    return n;
  }
  /** Size of one dimension; negative dims count from the end. */
  size(dim: number): number {
    const sh = this.#info()[0];
    const d = dim < 0 ? dim + sh.length : dim;
    if (d < 0 || d >= sh.length) {
      throw new RangeError(`Dimension ${dim} out of range for a tensor of shape [${sh}]`);
    }
    return sh[d];
  }
  get strides(): number[] {
    return native.strides(this.handle);
  }
  get storageOffset(): number {
    return native.storageOffset(this.handle);
  }
  isContiguous(memoryFormat: "contiguous" | "channelsLast" = "contiguous"): boolean {
    return native.isContiguous(this.handle, memoryFormat === "channelsLast" ? 2 : 0);
  }
  /** Address of the first element: equal for views of the same memory. */
  get dataPtr(): bigint {
    return native.dataPtr(this.handle);
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Frees the native tensor now. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    native.dispose(this.#handle);
    this.#disposed = true;
  }

  /**
   * Replaces this tensor's data with `src`'s (any device or dtype), keeping this object,
   * its autograd leaf status and its requires-grad flag — PyTorch's `t.data = src`. What
   * holds this tensor (a module field, an optimiser) sees the new data.
   */
  setData_(src: Tensor): this {
    native.callOpDiscard(setDataOp(), this.handle, src.handle);
    this.#meta = undefined;
    return this;
  }

  /** The single element as a number. */
  item(): number {
    return native.item(this.handle);
  }

  /** A copy of the data (contiguous, C order) in the TypedArray matching the dtype. */
  toTypedArray(): TypedArray {
    const buf = native.toBuffer(this.handle);
    switch (this.dtype) {
      case "float32":
        return new Float32Array(buf);
      case "float64":
        return new Float64Array(buf);
      case "int32":
        return new Int32Array(buf);
      case "int16":
        return new Int16Array(buf);
      case "int8":
        return new Int8Array(buf);
      case "int64":
        return new BigInt64Array(buf);
      case "uint8":
      case "bool":
        return new Uint8Array(buf);
      default:
        throw new Error(`toTypedArray: no TypedArray for ${this.dtype}; convert with .to() first`);
    }
  }

  /** A copy of the raw bytes (contiguous, C order, little-endian). */
  toBytes(): Uint8Array {
    return new Uint8Array(native.toBuffer(this.handle));
  }

  /** The data as plain numbers (int64 converted to number), flattened. */
  toArray(): number[] {
    const a = this.toTypedArray();
    return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a);
  }

  /**
   * Zero-copy view of a contiguous CPU tensor's memory; writes through it change the tensor.
   * The memory stays valid as long as the returned buffer is reachable.
   */
  dataView(): ArrayBuffer {
    return native.externalView(this.handle);
  }

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  /** Turns gradient recording on or off for a leaf tensor; returns this. */
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new wrapper each call), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  /** Name of the autograd node that produced this tensor, or null for leaves. */
  get gradFn(): string | null {
    return native.gradFnName(this.handle);
  }
  /** Back-propagates from this tensor; a non-scalar needs `gradient`. */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(
      [this.handle],
      gradient ? [gradient.handle] : null,
      opts.retainGraph,
      opts.createGraph ?? false,
    );
  }

  toString(): string {
    if (this.#disposed) return "Tensor(disposed)";
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }
}

/** Wraps one op result as a tensor, failing loudly if the op returned something else. */
export function wrap(r: OpResult): Tensor {
  if (!isHandleValue(r)) {
    throw new Error(`Expected a tensor result but received ${JSON.stringify(r)}`);
  }
  return new Tensor(r);
}

/** Wraps an array of op results (multiple returns or a tensor list). */
export function wrapAll(r: OpResult): Tensor[] {
  if (!Array.isArray(r)) throw new Error("Expected several tensor results");
  return r.map(wrap);
}

export { ITEM_SIZE };
