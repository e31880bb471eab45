// A small pickle writer (protocol 2, the protocol torch.save uses). It writes plain data
// (None, bool, int, float, str, bytes, list, tuple, dict, OrderedDict) and delegates tensors
// to a hook: .pth files write them as torch storages, Detectron2 files as numpy arrays.
// Protocol 2 is readable by every Python 3 (and by Python 2).
import { numpyDescr } from "../numpyDtype.js";
import { isRawTensor, type RawTensor } from "../rawTensor.js";
import { PyFloat, PyOrderedDict, PyTuple, pyTypeName } from "./values.js";

export type TensorHook = (t: RawTensor, w: PickleWriter) => void;

export class PickleWriter {
  private chunks: Uint8Array[] = [];
  private buf = Buffer.alloc(1 << 16);
  private len = 0;

  constructor(private readonly tensorHook: TensorHook = writeNdarray) {}

  private flush(): void {
    if (this.len > 0) this.chunks.push(Uint8Array.from(this.buf.subarray(0, this.len)));
    this.len = 0;
  }
  private room(n: number): void {
    if (this.len + n > this.buf.length) this.flush();
  }
  op(...codes: number[]): this {
    this.room(codes.length);
    for (const c of codes) this.buf[this.len++] = c;
    return this;
  }
  raw(b: Uint8Array): this {
    if (b.length > 4096) {
      this.flush();
      this.chunks.push(b);
    } else {
      this.room(b.length);
      this.buf.set(b, this.len);
      this.len += b.length;
    }
    return this;
  }
  private u32(n: number): this {
    this.room(4);
    this.buf.writeUInt32LE(n, this.len);
    this.len += 4;
    return this;
  }

  proto(): this {
    return this.op(0x80, 2);
  }
  global(module: string, name: string): this {
    return this.op(0x63).raw(Buffer.from(`${module}\n${name}\n`, "utf8"));
  }
  mark(): this {
    return this.op(0x28);
  }
  tupleFromMark(): this {
    return this.op(0x74);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  binpersid(): this {
    return this.op(0x51);
  }
  stop(): Uint8Array {
    this.op(0x2e);
    this.flush();
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    return out;
  }

  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.op(0x58).u32(b.length).raw(b);
  }

  int(v: number | bigint): this {
    if (typeof v === "number" && v >= 0 && v < 256) return this.op(0x4b, v);
    if (typeof v === "number" && v >= 0 && v < 65536) return this.op(0x4d, v & 0xff, v >> 8);
    if (typeof v === "number" && v >= -(2 ** 31) && v < 2 ** 31) {
      this.room(5);
      this.buf[this.len++] = 0x4a;
      this.buf.writeInt32LE(v, this.len);
      this.len += 4;
      return this;
    }
    // LONG1: minimal little-endian two's complement.
    let x = BigInt(v);
    const bytes: number[] = [];
    for (;;) {
      const b = Number(x & 0xffn);
      bytes.push(b);
      x >>= 8n;
      if ((x === 0n && !(b & 0x80)) || (x === -1n && b & 0x80)) break;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }

  float(v: number): this {
    this.room(9);
    this.buf[this.len++] = 0x47;
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
    return this;
  }

  /** bytes, the way Python 3 writes them in protocol 2: _codecs.encode(text, "latin1"). */
  bytes(b: Uint8Array): this {
    this.global("_codecs", "encode");
    const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
    return this.str(text).str("latin1").op(0x86).reduce();
  }

  tuple(items: readonly unknown[], path = "tuple"): this {
    if (items.length === 0) return this.op(0x29);
    if (items.length > 3) this.mark();
    items.forEach((x, i) => {
      this.value(x, `${path}[${i}]`);
    });
    return items.length > 3 ? this.tupleFromMark() : this.op(0x84 + items.length);
  }

  /** Any supported value; `path` names where it sits, for error messages. */
  value(v: unknown, path = "value"): this {
    if (v === null || v === undefined) return this.op(0x4e);
    if (v === true) return this.op(0x88);
    if (v === false) return this.op(0x89);
    if (typeof v === "number") return Number.isInteger(v) ? this.int(v) : this.float(v);
    if (typeof v === "bigint") return this.int(v);
    if (typeof v === "string") return this.str(v);
    if (v instanceof PyFloat) return this.float(v.value);
    if (v instanceof PyTuple) return this.tuple(v.items, path);
    if (isRawTensor(v)) {
      this.tensorHook(v, this);
      return this;
    }
    if (v instanceof Uint8Array) return this.bytes(v);
    if (Array.isArray(v)) {
      this.op(0x5d);
      if (v.length === 0) return this;
      this.mark();
      v.forEach((x, i) => {
        this.value(x, `${path}[${i}]`);
      });
      return this.op(0x65);
    }
    if (v instanceof PyOrderedDict) {
      this.global("collections", "OrderedDict").op(0x29).reduce();
      this.items(v, path);
      if (v.attrs.size > 0) this.items(v.attrs, path, true).build();
      return this;
    }
    if (v instanceof Map) return this.items(v, path, true);
    if (typeof v === "object" && isPlainObject(v)) {
      return this.items(new Map(Object.entries(v)), path, true);
    }
    throw new Error(`cannot pickle a ${pyTypeName(v)} at ${path}`);
  }

  /** Dict items; with `fresh` an EMPTY_DICT is pushed first, otherwise they go into the
   *  dict already on the stack. */
  private items(m: Map<unknown, unknown>, path: string, fresh = false): this {
    if (fresh) this.op(0x7d);
    if (m.size === 0) return this;
    this.mark();
    for (const [k, x] of m) {
      this.value(k, path);
      this.value(x, `${path}.${String(k)}`);
    }
    return this.op(0x75);
  }
}

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Writes a tensor as numpy.ndarray, the same opcodes `pickle.dumps(ndarray, 2)` produces. */
export function writeNdarray(t: RawTensor, w: PickleWriter): void {
  const descr = numpyDescr(t.dtype);
  w.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray");
  w.tuple([0]).bytes(Buffer.from("b")).op(0x87).reduce();
  // State: (version, shape, dtype, is_fortran, raw data).
  w.mark().int(1).tuple(t.shape);
  w.global("numpy", "dtype")
    .tuple([descr.slice(1), false, true])
    .reduce();
  w.tuple([3, descr[0], null, null, null, -1, -1, 0]).build();
  w.value(false).bytes(t.data).tupleFromMark().build();
}

/** Pickles a value (tensors become numpy arrays unless a hook says otherwise). */
export function pickleValue(v: unknown, tensorHook?: TensorHook): Uint8Array {
  const w = new PickleWriter(tensorHook);
  return w.proto().value(v).stop();
}
