// Random students for the conversion tests: a model's state dict with every float tensor
// (BN statistics included) filled with distinct random values, saved as kdep saves
// student.pth, so a misplaced tensor cannot go unnoticed.
import { join } from "node:path";
import type { RawTensor } from "../../src/io/index.js";
import { saveStateDict, toRaw } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/index.js";
import { fromArray, type Tensor } from "../../src/tensor/index.js";

export interface Student {
  path: string;
  /** torchvision key → the bytes written. */
  tensors: Map<string, RawTensor>;
}

let seed = 1;
function random(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // xorshift: fast, and different in every tensor.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    out[i] = (seed >>> 0) / 2 ** 32 + 0.01;
  }
  return out;
}

export function makeStudent(arch: string, dir: string, numClasses = 10): Student {
  const model = createModel(arch, { numClasses });
  const sd = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) {
    if (t.dtype === "float32") {
      const n = t.shape.reduce((a, b) => a * b, 1);
      sd.set(k, fromArray(random(n), t.shape));
    } else sd.set(k, t);
  }
  const path = join(dir, `${arch}-student.pth`);
  saveStateDict(path, sd);
  const tensors = new Map([...sd].map(([k, t]) => [k, toRaw(t)]));
  for (const t of sd.values()) if (t.dtype === "float32") t.dispose();
  model.dispose();
  return { path, tensors };
}

export function sameBytes(a: RawTensor, b: RawTensor): boolean {
  return (
    a.dtype === b.dtype &&
    a.shape.join() === b.shape.join() &&
    Buffer.from(a.data).equals(Buffer.from(b.data))
  );
}
