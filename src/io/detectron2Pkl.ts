// Detectron2 weight files: a pickle {"model": {name: numpy array}, "__author__": ...,
// "matching_heuristics": True}. The last flag tells Detectron2's checkpointer to match our
// names to its own by suffix, which is how it loads converted torchvision weights.
import { atomicWriteFile } from "./atomicWrite.js";
import { pickleValue } from "./pickle/writer.js";
import type { RawTensor } from "./rawTensor.js";

export function detectron2PklBytes(weights: Map<string, RawTensor>, author = "kdep"): Uint8Array {
  for (const [k, t] of weights) {
    if (t.dtype === "bfloat16") {
      throw new Error(`writeDetectron2Pkl: ${k} is bfloat16, which NumPy cannot hold`);
    }
  }
  const file = new Map<string, unknown>([
    // A plain dict: a state dict's OrderedDict attributes mean nothing to Detectron2.
    ["model", new Map(weights)],
    ["__author__", author],
    ["matching_heuristics", true],
  ]);
  return pickleValue(file);
}

export function writeDetectron2Pkl(path: string, weights: Map<string, RawTensor>): void {
  atomicWriteFile(path, detectron2PklBytes(weights));
}
