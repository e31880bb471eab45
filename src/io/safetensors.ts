// safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// tensor bytes (offsets are relative to the end of the header). No code, no pickle.
import { readFileSync } from "node:fs";
import { type DType, ITEM_SIZE } from "../tensor/dtype.js";
import { atomicWriteFile } from "./atomicWrite.js";
import { quoteName } from "./pickle/values.js";
import { checkRawTensor, numel, type RawTensor } from "./rawTensor.js";

const TO_NAME: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};
const FROM_NAME = new Map(Object.entries(TO_NAME).map(([d, n]) => [n, d as DType]));

/** The tensors and metadata of a safetensors file. */
export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Looks like safetensors: a sane header length followed by "{". */
export function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true);
  return n > 1n && n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

/** A header value for an error message: short, and safe on deeply nested JSON. */
function brief(v: unknown): string {
  try {
    return quoteName(JSON.stringify(v) ?? String(v));
  } catch {
    return "(nested too deeply to print)";
  }
}

/** Reads a safetensors file from a path or bytes. */
export function readSafetensors(input: string | Uint8Array, sourceName?: string): SafetensorsFile {
  const source = sourceName ?? (typeof input === "string" ? input : "<bytes>");
  const bytes = typeof input === "string" ? readFileSync(input) : input;
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail("file too short for a safetensors header");
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`header length ${n} exceeds the file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8"));
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("header is not a JSON object");
  }
  const base = 8 + n;
  const dataLen = bytes.length - base;
  const tensors = new Map<string, RawTensor>();
  const spans: { key: string; begin: number; end: number; dtype: DType; shape: number[] }[] = [];
  let metadata: Record<string, string> = {};
  for (const [key, info] of Object.entries(header)) {
    if (key === "__metadata__") {
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype: name, shape, data_offsets: off } = (info ?? {}) as Record<string, unknown>;
    const dtype = FROM_NAME.get(String(name));
    if (!dtype) fail(`tensor ${quoteName(key)}: unsupported dtype ${brief(name)}`);
    const okInts = (a: unknown): a is number[] =>
      Array.isArray(a) && a.every((x) => Number.isSafeInteger(x) && x >= 0);
    if (!okInts(shape)) return fail(`tensor ${quoteName(key)}: bad shape ${brief(shape)}`);
    if (!okInts(off) || off.length !== 2) {
      return fail(`tensor ${quoteName(key)}: bad data_offsets ${brief(off)}`);
    }
    const [begin, end] = off;
    const want = numel(shape) * ITEM_SIZE[dtype!];
    if (begin > end || end > dataLen) {
      fail(`tensor ${key}: data_offsets [${begin}, ${end}] outside the ${dataLen} data bytes`);
    }
    if (end - begin !== want) {
      fail(
        `tensor ${key}: data_offsets span ${end - begin} bytes, ${dtype}[${shape}] needs ${want}`,
      );
    }
    spans.push({ key, begin, end, dtype: dtype!, shape });
  }
  // The format forbids overlapping tensors; allowing them would let a small file be copied
  // out once per key that names the same bytes.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const [p, c] = [spans[i - 1], spans[i]];
    if (c.begin < p.end) {
      fail(`tensors ${quoteName(p.key)} and ${quoteName(c.key)} overlap in the data section`);
    }
  }
  for (const { key, begin, end, dtype, shape } of spans) {
    tensors.set(key, {
      dtype,
      shape,
      data: Uint8Array.from(bytes.subarray(base + begin, base + end)),
    });
  }
  return { tensors, metadata };
}

export function safetensorsBytes(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [key, t] of entries) {
    checkRawTensor(t, `safetensors tensor ${key}`);
    header[key] = {
      dtype: TO_NAME[t.dtype],
      shape: t.shape,
      data_offsets: [offset, offset + t.data.length],
    };
    offset += t.data.length;
  }
  // Pad the header with spaces to 8 bytes so every tensor stays 8-byte aligned.
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  return Buffer.concat([len, json, ...entries.map(([, t]) => t.data)]);
}

/** Writes tensors (and optional string metadata) as a safetensors file, atomically. */
export function writeSafetensors(
  path: string,
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): void {
  atomicWriteFile(path, safetensorsBytes(tensors, metadata));
}
