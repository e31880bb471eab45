// NumPy .npy files: "\x93NUMPY", version, header length (2 bytes in v1.0, 4 in v2.0/v3.0),
// then a Python dict literal {'descr', 'fortran_order', 'shape'} padded with spaces to a
// 64-byte boundary and ended by "\n", then the raw array. We read any byte order and either
// memory order and return C-order little-endian; we write v1.0, C-order, little-endian.

import { readFileSync } from "node:fs";
import { ITEM_SIZE } from "../tensor/dtype.js";
import { atomicWriteFile } from "./atomicWrite.js";
import { numpyDescr, parseNumpyDescr } from "./numpyDtype.js";
import { quoteName } from "./pickle/values.js";
import {
  byteSwapInPlace,
  checkRawTensor,
  contiguousStrides,
  gatherStrided,
  numel,
  type RawTensor,
} from "./rawTensor.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads a NumPy `.npy` array (C or Fortran order) from a path or bytes. */
export function readNpy(input: string | Uint8Array, sourceName?: string): RawTensor {
  const source = sourceName ?? (typeof input === "string" ? input : "<bytes>");
  const bytes = typeof input === "string" ? readFileSync(input) : input;
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 10 || !isNpy(bytes)) fail("not a .npy file (bad magic)");
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated header");
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    return fail(`unsupported .npy version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) fail("truncated header");
  const header = Buffer.from(bytes.subarray(start, start + headerLen)).toString(
    major === 3 ? "utf8" : "latin1",
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(`cannot parse header ${JSON.stringify(quoteName(header.trim()))}`);
  }
  const type = parseNumpyDescr(descr);
  if (!type) return fail(`unsupported dtype '${quoteName(descr)}'`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, "")));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    fail(`bad shape (${quoteName(shapeText)})`);
  const size = ITEM_SIZE[type.dtype];
  const nbytes = numel(shape) * size;
  const begin = start + headerLen;
  if (begin + nbytes > bytes.length) {
    fail(`data is truncated: ${bytes.length - begin} of ${nbytes} bytes present`);
  }
  let data: Uint8Array = Uint8Array.from(bytes.subarray(begin, begin + nbytes));
  if (type.bigEndian) byteSwapInPlace(data, size);
  if (fortran === "True" && shape.length > 1) {
    // Fortran order = C order of the reversed shape; read it through reversed strides.
    const strides = contiguousStrides([...shape].reverse()).reverse();
    data = gatherStrided(data, size, 0, shape, strides);
  }
  return { dtype: type.dtype, shape, data };
}

export function npyBytes(t: RawTensor): Uint8Array {
  checkRawTensor(t, "npy");
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  let header = `{'descr': '${numpyDescr(t.dtype)}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so the data starts on a 64-byte boundary: 10 bytes of preamble + header + "\n".
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  if (header.length > 65535) throw new Error("npy: header too long for format 1.0");
  const pre = new Uint8Array(10);
  pre.set(MAGIC);
  pre[6] = 1;
  pre[7] = 0;
  new DataView(pre.buffer).setUint16(8, header.length, true);
  return Buffer.concat([pre, Buffer.from(header, "latin1"), t.data]);
}

/** Writes a NumPy `.npy` file, atomically. */
export function writeNpy(path: string, t: RawTensor): void {
  atomicWriteFile(path, npyBytes(t));
}
