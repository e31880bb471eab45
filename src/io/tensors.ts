// The bridge between the engine's Tensor and the io layer's RawTensor / Python values:
// one copy each way. State dicts are saved as OrderedDicts of tensors, as torch.save does.
import { fromArray, type Tensor } from "../tensor/index.js";
import { Tensor as TensorClass } from "../tensor/tensor.js";
import { loadCheckpoint } from "./index.js";
import { PyFloat, PyOrderedDict, PyTuple, type PyValue } from "./pickle/values.js";
import { extractStateDict } from "./prefixes.js";
import { writePth } from "./pth.js";
import { isRawTensor, type RawTensor } from "./rawTensor.js";

/** A tensor's data as a {@link RawTensor} (copied to the CPU, C order). */
export function toRaw(t: Tensor): RawTensor {
  const cpu = t.device === "cpu" ? t : t.to({ device: "cpu" });
  const raw = { dtype: cpu.dtype, shape: cpu.shape, data: cpu.toBytes() };
  if (cpu !== t) cpu.dispose();
  return raw;
}

/** A tensor holding a copy of a {@link RawTensor}'s bytes. */
export function fromRaw(r: RawTensor, device = "cpu"): Tensor {
  return fromArray(r.data, r.shape, { dtype: r.dtype, device });
}

/** Values with tensors, as the training code holds them. */
export type TensorTree =
  | Tensor
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | TensorTree[]
  | Map<string | number, TensorTree>
  | { [key: string]: TensorTree };

/** Tensors → RawTensor, plain objects and Maps → dicts (Maps of strings → OrderedDict). */
export function toPy(v: TensorTree): PyValue {
  if (v === undefined || v === null) return null;
  if (v instanceof TensorClass) return toRaw(v);
  if (Array.isArray(v)) return v.map(toPy);
  if (v instanceof Map) {
    const out = new PyOrderedDict();
    for (const [k, x] of v) out.set(k, toPy(x));
    return out;
  }
  if (typeof v === "object") {
    const out = new Map<PyValue, PyValue>();
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out.set(k, toPy(x));
    return out;
  }
  if (typeof v === "number" && !Number.isInteger(v)) return new PyFloat(v);
  return v;
}

/** RawTensor → Tensor everywhere in a value read from a file; dicts stay Maps. */
export function fromPy(v: PyValue, device = "cpu"): TensorTree {
  if (isRawTensor(v)) return fromRaw(v, device);
  if (Array.isArray(v)) return v.map((x) => fromPy(x, device));
  if (v instanceof PyTuple) return v.items.map((x) => fromPy(x, device));
  if (v instanceof PyFloat) return v.value;
  if (v instanceof Map) {
    const out = new Map<string | number, TensorTree>();
    for (const [k, x] of v) {
      if (typeof k !== "string" && typeof k !== "number") {
        throw new Error(`Unsupported dict key of type ${typeof k} in a checkpoint`);
      }
      out.set(k, fromPy(x, device));
    }
    return out;
  }
  if (v instanceof Uint8Array || v instanceof Set) {
    throw new Error("Unsupported bytes/set value in a checkpoint");
  }
  return v as TensorTree;
}

/** Writes a state dict (atomically) that torch.load reads as an OrderedDict of tensors. */
export function saveStateDict(path: string, sd: Map<string, Tensor>): void {
  writePth(path, toPy(sd));
}

/**
 * Reads the network weights out of any checkpoint we understand (torchvision state dicts,
 * `{model: …}` / `{state_dict: …}` nestings, robustness/KDEP wrappers, safetensors) and
 * returns them with bare torchvision keys, plus a report of what was unwrapped.
 */
export function loadStateDictFile(
  path: string,
  device = "cpu",
): { stateDict: Map<string, Tensor>; report: string[] } {
  const { value } = loadCheckpoint(path);
  const { stateDict, report, path: nesting } = extractStateDict(value);
  const out = new Map<string, Tensor>();
  for (const [k, raw] of stateDict) out.set(k, fromRaw(raw, device));
  if (nesting.length)
    report.unshift(`read the state dict under ${nesting.map((p) => `["${p}"]`).join("")}`);
  return { stateDict: out, report };
}
