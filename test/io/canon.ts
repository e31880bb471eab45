// TypeScript side of fixtures/canon.py: the same canonical JSON for values kdep read.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { PyFloat, PyOrderedDict, PyTuple } from "../../src/io/pickle/values.js";
import { isRawTensor } from "../../src/io/rawTensor.js";

/** Absolute path of a fixture script in the source tree (tests run from dist/). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/io/fixtures/${name}`, import.meta.url));
}

export function canon(v: unknown): unknown {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "bigint") return { i: v.toString() };
  if (v instanceof PyFloat) return canon(v.value);
  if (typeof v === "number") {
    if (Number.isInteger(v)) return { i: (v === 0 ? 0 : v).toString() };
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return { f: b.toString("hex") };
  }
  if (typeof v === "string") return { s: v };
  if (isRawTensor(v)) {
    return {
      tensor: v.dtype,
      shape: v.shape,
      sha: createHash("sha256").update(v.data).digest("hex"),
    };
  }
  if (v instanceof Uint8Array) return { b: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return { l: v.map(canon) };
  if (v instanceof PyTuple) return { t: v.items.map(canon) };
  if (v instanceof PyOrderedDict) return { od: [...v].map(([k, x]) => [canon(k), canon(x)]) };
  if (v instanceof Map) return { d: [...v].map(([k, x]) => [canon(k), canon(x)]) };
  throw new Error(`no canonical form for ${String(v)}`);
}
