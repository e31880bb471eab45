// The one tensor shape every reader returns and every writer takes: dense, C-order,
// little-endian bytes. The tensor engine turns it into a tensor with a single memcpy, so
// this layer never depends on the engine.
import { type DType, ITEM_SIZE } from "../tensor/dtype.js";

/** A tensor as bytes: what every checkpoint reader returns and every writer takes. */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  /** Contiguous C-order little-endian bytes, exactly numel * itemsize long. */
  data: Uint8Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isRawTensor(x: unknown): x is RawTensor {
  if (typeof x !== "object" || x === null) return false;
  const t = x as Partial<RawTensor>;
  return typeof t.dtype === "string" && Array.isArray(t.shape) && t.data instanceof Uint8Array;
}

/** Throws unless `t` is self-consistent; `where` names the file/key for the message. */
export function checkRawTensor(t: RawTensor, where: string): void {
  const size = ITEM_SIZE[t.dtype];
  if (size === undefined) throw new Error(`${where}: unknown dtype ${String(t.dtype)}`);
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${where}: invalid shape [${t.shape.join(", ")}]`);
    }
  }
  const want = numel(t.shape) * size;
  if (t.data.byteLength !== want) {
    throw new Error(
      `${where}: expected ${want} bytes for ${t.dtype}[${t.shape.join(", ")}] but received ${t.data.byteLength}`,
    );
  }
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/**
 * Copies a strided view (offset and strides in elements, as torch stores them) out of a
 * storage into fresh contiguous bytes. The caller has checked the view lies inside `src`.
 * The innermost run of unit stride is copied as one block, so common cases stay fast.
 */
export function gatherStrided(
  src: Uint8Array,
  itemSize: number,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): Uint8Array {
  const n = numel(shape);
  const out = new Uint8Array(n * itemSize);
  if (n === 0) return out;
  // Merge trailing dims that are contiguous so one copy covers a whole block.
  let inner = 1;
  let dims = shape.length;
  while (dims > 0 && strides[dims - 1] === inner) {
    inner *= shape[dims - 1];
    dims--;
  }
  const blockBytes = inner * itemSize;
  if (dims === 0) {
    out.set(src.subarray(offset * itemSize, offset * itemSize + blockBytes));
    return out;
  }
  const idx = new Array<number>(dims).fill(0);
  let pos = offset;
  for (let o = 0; o < out.length; o += blockBytes) {
    const b = pos * itemSize;
    if (blockBytes === itemSize && itemSize <= 8) {
      for (let k = 0; k < itemSize; k++) out[o + k] = src[b + k];
    } else {
      out.set(src.subarray(b, b + blockBytes), o);
    }
    // Odometer increment over the outer dims.
    for (let d = dims - 1; d >= 0; d--) {
      idx[d]++;
      pos += strides[d];
      if (idx[d] < shape[d]) break;
      pos -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Smallest and largest element index a strided view touches (relative to storage start). */
export function viewExtent(
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): { min: number; max: number } | null {
  if (numel(shape) === 0) return null;
  let min = offset;
  let max = offset;
  for (let i = 0; i < shape.length; i++) {
    const span = (shape[i] - 1) * strides[i];
    if (span < 0) min += span;
    else max += span;
  }
  return { min, max };
}

/** Reverses the byte order of each element in place (big-endian sources). */
export function byteSwapInPlace(data: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i + itemSize <= data.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = data[a];
      data[a] = data[b];
      data[b] = t;
    }
  }
}
