// PyTorch checkpoints (.pth/.pt): reading both formats torch.save has used, and writing the
// zip format that torch.load (1.13 and 2.x) reads.
//
// Zip format (torch >= 1.6): `<folder>/data.pkl` is a pickle in which each storage is a
// persistent id ("storage", torch.XStorage, key, location, numel); its bytes are the entry
// `<folder>/data/<key>`. `<folder>/byteorder` says "little" or "big" when present.
//
// Legacy format: back-to-back pickles — magic number, protocol version (1001), sys_info,
// the object (persistent ids add a sixth field, view_metadata), the list of storage keys —
// then each storage in that order as an int64 element count followed by its raw bytes.
import { readFileSync } from "node:fs";
import { type DType, ITEM_SIZE } from "../tensor/dtype.js";
import { atomicWriteFile } from "./atomicWrite.js";
import {
  materializeTensors,
  type PendingTensor,
  PyGlobal,
  TorchStorage,
} from "./pickle/globals.js";
import { type UnpickleOptions, unpickle } from "./pickle/unpickler.js";
import { PyTuple, type PyValue, quoteName } from "./pickle/values.js";
import { PickleWriter } from "./pickle/writer.js";
import { byteSwapInPlace, contiguousStrides, numel, type RawTensor } from "./rawTensor.js";
import { isZip, writeZip } from "./zip.js";
import { ZipArchive } from "./zipReader.js";

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
// The magic number as pickle's LONG1 opcode writes it: 0x8a, length 10, little-endian bytes.
const LEGACY_MAGIC_OPS = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export function isLegacyPth(bytes: Uint8Array): boolean {
  return bytes[0] === 0x80 && LEGACY_MAGIC_OPS.every((b, i) => bytes[i + 2] === b);
}

function load(input: string | Uint8Array): { bytes: Uint8Array; source: string } {
  if (typeof input !== "string") return { bytes: input, source: "<bytes>" };
  try {
    return { bytes: readFileSync(input), source: input };
  } catch (e) {
    throw new Error(`cannot read ${input}: ${(e as Error).message}`);
  }
}

/** Reads a torch.save file (zip or legacy format) into plain values and RawTensors. */
export function readPth(input: string | Uint8Array, sourceName?: string): PyValue {
  const { bytes, source: src } = load(input);
  const source = sourceName ?? src;
  if (isZip(bytes)) return named(source, () => readZipPth(bytes, source));
  if (isLegacyPth(bytes)) return named(source, () => readLegacyPth(bytes, source));
  if (bytes.length >= 262 && Buffer.from(bytes.subarray(257, 262)).toString() === "ustar") {
    throw new Error(`${source}: tar-based checkpoints (PyTorch < 0.4) are not supported`);
  }
  throw new Error(`${source}: not a PyTorch checkpoint (neither zip nor legacy magic number)`);
}

/** Runs a reader so that any error it lets through (a RangeError from deep nesting, say)
 *  still names the file. */
export function named<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith(source)) throw e;
    const why = e instanceof RangeError ? "nested too deeply or too large to read" : "unreadable";
    throw new Error(`${source}: ${why} (${quoteName(msg, 200)})`);
  }
}

/** Checks a storage persistent id's shared fields and returns [dtype, key, numel]. */
function storageId(pid: PyValue, source: string, fields: number): [DType, string, number] {
  const items = pid instanceof PyTuple ? pid.items : [];
  const [tag, type, key, , n] = items as unknown[];
  if (tag === "module") {
    throw new Error(
      `${source}: this file pickles a whole nn.Module; save its state_dict() instead`,
    );
  }
  if (items.length !== fields || tag !== "storage" || !(type instanceof PyGlobal)) {
    throw new Error(`${source}: unexpected persistent id in pickle`);
  }
  if (!type.storageDType || typeof key !== "string" || typeof n !== "number") {
    throw new Error(`${source}: malformed storage id (${type.qualname})`);
  }
  return [type.storageDType, key, n];
}

function readZipPth(bytes: Uint8Array, source: string): PyValue {
  const zip = new ZipArchive(bytes, source);
  const first = zip.names()[0];
  const folder = first?.includes("/") ? first.slice(0, first.indexOf("/")) : "";
  const pkl = zip.read(`${folder}/data.pkl`);
  if (!pkl) {
    const what = zip.has(`${folder}/constants.pkl`) ? " (a TorchScript archive?)" : "";
    throw new Error(`${source}: zip archive has no ${quoteName(folder)}/data.pkl${what}`);
  }
  const order = zip.read(`${folder}/byteorder`);
  const bigEndian = order !== undefined && Buffer.from(order).toString().trim() === "big";
  const storages = new Map<string, TorchStorage>();
  const pending: PendingTensor[] = [];
  const value = unpickle(pkl, {
    source: `${source} (${folder}/data.pkl)`,
    pending,
    // Storages are inflated here, when the pickle first names them: entries nothing
    // references are never read.
    persistentLoad: (pid) => {
      const [dtype, key, n] = storageId(pid, source, 5);
      let st = storages.get(key);
      if (st) return st;
      st = new TorchStorage(dtype, key, n);
      const name = `${folder}/data/${key}`;
      const want = n * ITEM_SIZE[dtype];
      const declared = zip.declaredSize(name);
      if (declared === undefined) {
        throw new Error(`${source}: storage entry ${quoteName(name)} is missing`);
      }
      if (declared < want) {
        throw new Error(
          `${source}: storage ${quoteName(name)} has ${declared} bytes, expected ${want}`,
        );
      }
      let data = (zip.read(name) as Uint8Array).subarray(0, want);
      if (bigEndian) {
        // Stored entries are views into the file's bytes; swap a copy, not the caller's input.
        data = Uint8Array.from(data);
        byteSwapInPlace(data, ITEM_SIZE[dtype]);
      }
      st.data = data;
      storages.set(key, st);
      return st;
    },
  }).value;
  materializeTensors({ source, pending }, value);
  return value;
}

function readLegacyPth(bytes: Uint8Array, source: string): PyValue {
  let pos = 0;
  const next = (what: string, persistentLoad?: UnpickleOptions["persistentLoad"]) => {
    const r = unpickle(bytes, {
      source: `${source} (${what})`,
      offset: pos,
      pending,
      persistentLoad,
    });
    pos = r.end;
    return r.value;
  };
  const pending: PendingTensor[] = [];
  if (next("magic number") !== LEGACY_MAGIC) throw new Error(`${source}: bad legacy magic number`);
  const version = next("protocol version");
  if (version !== 1001)
    throw new Error(`${source}: unsupported legacy protocol version ${version}`);
  const sysInfo = next("sys_info");
  if (sysInfo instanceof Map && sysInfo.get("little_endian") === false) {
    throw new Error(`${source}: big-endian legacy checkpoints are not supported`);
  }
  const storages = new Map<string, TorchStorage>();
  const value = next("object", (pid: PyValue) => {
    const [dtype, key, n] = storageId(pid, source, 6);
    let root = storages.get(key);
    if (!root) {
      root = new TorchStorage(dtype, key, n);
      storages.set(key, root);
    }
    // view_metadata (view_key, offset, size), in elements: a storage slice from old saves.
    const view = (pid as PyTuple).items[5];
    if (view instanceof PyTuple) {
      const [vkey, off, size] = view.items;
      if (typeof vkey !== "string" || typeof off !== "number" || typeof size !== "number") {
        throw new Error(`${source}: malformed storage view metadata`);
      }
      return new TorchStorage(dtype, vkey, size, root, off);
    }
    return root;
  });
  const keys = next("storage keys");
  if (!Array.isArray(keys)) throw new Error(`${source}: legacy storage key list missing`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys) {
    const st = typeof key === "string" ? storages.get(key) : undefined;
    if (!st) throw new Error(`${source}: storage ${quoteName(String(key))} listed but never used`);
    if (pos + 8 > bytes.length) throw new Error(`${source}: file ends before storage ${key}`);
    const count = Number(view.getBigInt64(pos, true));
    const nbytes = count * ITEM_SIZE[st.dtype];
    pos += 8;
    if (count < 0 || pos + nbytes > bytes.length) {
      throw new Error(
        `${source}: storage ${key} needs ${nbytes} bytes but only ${bytes.length - pos} remain`,
      );
    }
    st.data = bytes.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  materializeTensors({ source, pending }, value);
  return value;
}

const STORAGE_NAME: Record<DType, string> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  float16: "HalfStorage",
  bfloat16: "BFloat16Storage",
  int64: "LongStorage",
  int32: "IntStorage",
  int16: "ShortStorage",
  int8: "CharStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

/** Serialises a value to the bytes of a zip-format .pth file. */
export function pthBytes(value: unknown): Uint8Array {
  // One storage per distinct RawTensor object, so a tensor referenced twice stays shared.
  const keys = new Map<RawTensor, string>();
  const w = new PickleWriter((t, w) => {
    let key = keys.get(t);
    if (key === undefined) {
      key = String(keys.size);
      keys.set(t, key);
    }
    w.global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", STORAGE_NAME[t.dtype]).str(key).str("cpu");
    w.int(numel(t.shape)).tupleFromMark().binpersid();
    w.int(0).tuple(t.shape).tuple(contiguousStrides(t.shape)).value(false);
    w.global("collections", "OrderedDict").op(0x29).reduce();
    w.tupleFromMark().reduce();
  });
  const pkl = w.proto().value(value).stop();
  const entries = [
    { name: "archive/data.pkl", data: pkl },
    { name: "archive/byteorder", data: Buffer.from("little") },
  ];
  for (const [t, key] of keys) {
    const want = numel(t.shape) * ITEM_SIZE[t.dtype];
    if (t.data.length !== want) {
      throw new Error(
        `writePth: a ${t.dtype}[${t.shape.join(", ")}] tensor has ${t.data.length} bytes, expected ${want}`,
      );
    }
    entries.push({ name: `archive/data/${key}`, data: t.data });
  }
  entries.push({ name: "archive/version", data: Buffer.from("3\n") });
  return writeZip(entries);
}

/** Writes `value` (dicts, Maps, lists, numbers, strings, RawTensors) as a .pth, atomically. */
export function writePth(path: string, value: unknown): void {
  atomicWriteFile(path, pthBytes(value));
}
