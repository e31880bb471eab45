// Checkpoint I/O: pure TypeScript over bytes, independent of the tensor engine. Readers
// return RawTensors (dense little-endian bytes); writers take them.
import { readFileSync } from "node:fs";
import { isNpy, readNpy } from "./npy.js";
import { unpickle } from "./pickle/unpickler.js";
import type { PyValue } from "./pickle/values.js";
import { isLegacyPth, named, readPth } from "./pth.js";
import { isSafetensors, readSafetensors } from "./safetensors.js";
import { isZip } from "./zip.js";

export { type AtomicWriteOptions, atomicWriteFile } from "./atomicWrite.js";
export { detectron2PklBytes, writeDetectron2Pkl } from "./detectron2Pkl.js";
export { isNpy, npyBytes, readNpy, writeNpy } from "./npy.js";
export { type UnpickleOptions, type UnpickleResult, unpickle } from "./pickle/unpickler.js";
export {
  isPyDict,
  type PyDict,
  PyFloat,
  PyOrderedDict,
  PyTuple,
  type PyValue,
  pyTypeName,
} from "./pickle/values.js";
export { PickleWriter, pickleValue, writeNdarray } from "./pickle/writer.js";
export { extractStateDict, type StripResult, stripPrefixes } from "./prefixes.js";
export { isLegacyPth, pthBytes, readPth, writePth } from "./pth.js";
export { isRawTensor, numel, type RawTensor } from "./rawTensor.js";
export {
  isSafetensors,
  readSafetensors,
  type SafetensorsFile,
  safetensorsBytes,
  writeSafetensors,
} from "./safetensors.js";

/** The container {@link loadCheckpoint} found, told by the file's content. */
export type CheckpointFormat = "pth-zip" | "pth-legacy" | "pickle" | "safetensors" | "npy";

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  format: CheckpointFormat;
  /** .pth/.pkl: the unpickled object; safetensors: a Map of tensors; .npy: one RawTensor. */
  value: PyValue;
  /** safetensors `__metadata__`, when present. */
  metadata?: Record<string, string>;
}

/** Reads a plain pickle (e.g. a Detectron2 .pkl) with the safe unpickler. */
export function readPickle(input: string | Uint8Array, sourceName?: string): PyValue {
  const source = sourceName ?? (typeof input === "string" ? input : "<bytes>");
  const bytes = typeof input === "string" ? readFileSync(input) : input;
  return named(source, () => unpickle(bytes, { source }).value);
}

const PICKLE_0_START = new Set(Buffer.from("(}])cdl", "latin1"));

/** Loads any supported checkpoint, choosing the reader by the file's content, not its name. */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (isZip(bytes)) return { format: "pth-zip", value: readPth(bytes, path) };
  if (isLegacyPth(bytes)) return { format: "pth-legacy", value: readPth(bytes, path) };
  if (isNpy(bytes)) return { format: "npy", value: readNpy(bytes, path) };
  if (isSafetensors(bytes)) {
    const f = named(path, () => readSafetensors(bytes, path));
    return { format: "safetensors", value: f.tensors, metadata: f.metadata };
  }
  // Protocol 2+ pickles start with PROTO; protocol 0/1 ones with a container or GLOBAL opcode.
  if ((bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) || PICKLE_0_START.has(bytes[0])) {
    return { format: "pickle", value: readPickle(bytes, path) };
  }
  throw new Error(
    `${path}: unrecognised checkpoint format (expected a .pth zip or legacy file, a pickle, ` +
      "safetensors or .npy)",
  );
}
