// Data types, by their PyTorch names. Codes are c10::ScalarType's enum values, which is what
// the native layer and ATen operators take.
/** Tensor data types, by their PyTorch names. */
export type DType =
  | "uint8"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "float16"
  | "float32"
  | "float64"
  | "bool"
  | "bfloat16";

export const DTYPE_CODE: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]));

export function dtypeFromCode(code: number): DType {
  const d = BY_CODE.get(code);
  if (d === undefined) throw new Error(`Unsupported tensor dtype code ${code}`);
  return d;
}

export const ITEM_SIZE: Record<DType, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
  bool: 1,
  bfloat16: 2,
};

export function isFloating(d: DType): boolean {
  return d === "float16" || d === "float32" || d === "float64" || d === "bfloat16";
}
