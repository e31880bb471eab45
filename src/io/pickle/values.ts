// How Python values read from (or written to) a pickle look in TypeScript.
//
//   None → null            bool → boolean          str → string
//   int  → number, or bigint when outside ±2^53    float → number
//   bytes / bytearray → Uint8Array                  list → PyValue[]
//   tuple (and torch.Size) → PyTuple               dict → Map (insertion order kept)
//   collections.OrderedDict → PyOrderedDict (a Map, plus instance attributes such as
//       a state dict's `_metadata`)                set / frozenset → Set
//   torch tensor / nn.Parameter / numpy.ndarray → RawTensor
//   numpy scalar → number / bigint / boolean
//
// Python's int and float are both `number` here. A writer cannot tell 2.0 from 2, so it
// writes integral numbers as int; wrap a value in PyFloat to force a float.
import type { RawTensor } from "../rawTensor.js";

/**
 * A value read from (or written to) a pickle: tensors as {@link RawTensor}, dicts as Maps, tuples,
 * lists, numbers, strings.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | Set<PyValue>
  | RawTensor
  | PyFloat;

export type PyDict = Map<PyValue, PyValue>;

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PyOrderedDict extends Map<PyValue, PyValue> {
  /** Instance attributes set by pickle's BUILD (torch keeps `_metadata` here). */
  attrs = new Map<string, PyValue>();
}

/** Marks a number to be written as a Python float even when it is integral. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export function isPyDict(x: unknown): x is PyDict {
  return x instanceof Map;
}

/** Reads a string-keyed entry from a dict, or undefined. */
export function dictGet(d: PyDict, key: string): PyValue | undefined {
  return d.get(key);
}

/** Short description of a value's Python type, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "bigint") return "int";
  if (typeof v === "string") return "str";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyOrderedDict) return "OrderedDict";
  if (v instanceof Map) return "dict";
  if (v instanceof Set) return "set";
  if (v instanceof PyFloat) return "float";
  if (typeof v === "object" && v !== null && "constructor" in v) {
    return (v as { constructor: { name: string } }).constructor.name;
  }
  return typeof v;
}

/** Where `target` sits inside `root`, as `a.b[2]`; iterative, so deep nesting is safe. */
export function pathTo(root: unknown, target: unknown): string | null {
  const todo: [unknown, string][] = [[root, ""]];
  const seen = new Set<unknown>();
  while (todo.length > 0) {
    const [v, path] = todo.pop() as [unknown, string];
    if (v === target) return path || "<top level>";
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    const key = (k: unknown) => (typeof k === "string" ? k.slice(0, 80) : `[${String(k)}]`);
    const join = (k: unknown) =>
      path && typeof k === "string" ? `${path}.${key(k)}` : `${path}${key(k)}`;
    if (v instanceof Map) for (const [k, x] of v) todo.push([x, join(k)]);
    else {
      const items = Array.isArray(v) ? v : v instanceof PyTuple ? v.items : [];
      for (let i = 0; i < items.length; i++) todo.push([items[i], `${path}[${i}]`]);
    }
  }
  return null;
}

/** Quotes text taken from a file for an error message, cut short when long. */
export function quoteName(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters)`;
}
