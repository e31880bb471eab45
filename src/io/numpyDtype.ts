// NumPy type strings ("<f4", "|u1", ">i8") ↔ our DType. Shared by .npy and pickled ndarrays.
import type { DType } from "../tensor/dtype.js";

const BY_KIND: Record<string, DType> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  b1: "bool",
};

const TO_KIND: Record<DType, string | null> = {
  float16: "f2",
  float32: "f4",
  float64: "f8",
  int8: "i1",
  int16: "i2",
  int32: "i4",
  int64: "i8",
  uint8: "u1",
  bool: "b1",
  // NumPy has no bfloat16; callers must convert first.
  bfloat16: null,
};

export interface NumpyType {
  dtype: DType;
  bigEndian: boolean;
}

/** Parses "<f4", ">i8", "|b1", "f8" (no order mark means native, i.e. little here). */
export function parseNumpyDescr(descr: string): NumpyType | null {
  const m = /^([<>|=]?)([a-zA-Z]\d+|[?])$/.exec(descr);
  if (!m) return null;
  const kind = m[2] === "?" ? "b1" : m[2];
  const dtype = BY_KIND[kind];
  if (dtype === undefined) return null;
  return { dtype, bigEndian: m[1] === ">" };
}

/** Little-endian NumPy descr for a DType; throws for bfloat16 which NumPy lacks. */
export function numpyDescr(dtype: DType): string {
  const kind = TO_KIND[dtype];
  if (kind === null) throw new Error(`NumPy has no ${dtype} type; convert to float32 first`);
  return (kind.endsWith("1") ? "|" : "<") + kind;
}
