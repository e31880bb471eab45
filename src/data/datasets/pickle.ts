// A minimal, *safe* unpickler for dataset pickles (CIFAR-10/100 "python version").
//
// It never imports or calls anything: globals become inert `{ $global: "module.name" }`
// markers, and only two callables are understood, by name — numpy's array reconstruction
// (`numpy.core.multiarray._reconstruct` + BUILD, for the uint8 `data` arrays) and
// `_codecs.encode(str, "latin1")` (how Python 3 writes bytes at protocol 2). Any other
// REDUCE is an error. Enough for what the CIFAR files hold: dicts, lists, bytes, str,
// ints and one uint8 array.

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
  | NdArray
  | PyGlobal
  | PyReduce;
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  readonly entries = new Map<string, PyValue>();
  /** Keys are stored as text: bytes keys (Python 2 str) are decoded as latin-1. */
  get(key: string): PyValue | undefined {
    return this.entries.get(key);
  }
}
export interface NdArray {
  $ndarray: true;
  dtype: string; // numpy dtype str, e.g. "u1", "<i8"
  shape: number[];
  data: Uint8Array;
}
export interface PyGlobal {
  $global: string;
}
export interface PyReduce {
  $reduce: string;
  args: PyValue[];
  state?: PyValue;
}

const MARK = Symbol("mark");
type StackItem = PyValue | typeof MARK;

export function unpickle(bytes: Uint8Array, what: string): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  const fail = (why: string): never => {
    throw new Error(`${what}: cannot unpickle at byte ${pos}: ${why}`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail("unexpected end of file (truncated?)");
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u32 = (): number => {
    need(4);
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  const line = (): string => {
    const end = bytes.indexOf(10, pos);
    if (end < 0) fail("unterminated line");
    const s = text(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return fail("stack underflow");
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("missing MARK");
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const top = (): PyValue => stack[stack.length - 1] as PyValue;
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof PyDict)) fail("SETITEM on a non-dict");
    for (let i = 0; i < kv.length; i += 2) (d as PyDict).entries.set(keyOf(kv[i]), kv[i + 1]);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u8() | (u8() << 8));
        break;
      case 0x4a: // BININT
        stack.push(u32() | 0);
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const b = take(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(Number.isSafeInteger(Number(v)) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str: bytes)
        stack.push(take(u8()).slice());
        break;
      case 0x54: // BINSTRING
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(take(u8())));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(take(u32())));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        (top() as PyValue[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail("APPENDS on a non-list");
        for (const v of items) (l as PyValue[]).push(v);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo key ${k} missing`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const mod = line();
        stack.push({ $global: `${mod}.${line()}` });
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        stack.push({ $global: `${pop()}.${name}` });
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop() as PyGlobal;
        stack.push(reduce(fn, args, fail));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state, fail);
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

function keyOf(k: PyValue): string {
  if (typeof k === "string") return k;
  if (k instanceof Uint8Array) return latin1(k);
  return String(k);
}

export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

const NDARRAY_GLOBALS = new Set([
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray._reconstruct",
]);

function reduce(fn: PyGlobal, args: PyValue, fail: (w: string) => never): PyValue {
  const name = fn?.$global;
  const a = args instanceof PyTuple ? args.items : [];
  if (name === "_codecs.encode" && typeof a[0] === "string") {
    // bytes at protocol 2: _codecs.encode(latin-1 text, "latin1")
    return Uint8Array.from(a[0] as string, (c) => c.charCodeAt(0));
  }
  if (NDARRAY_GLOBALS.has(name) || name === "numpy.dtype") return { $reduce: name, args: a };
  return fail(`refusing to call ${name ?? "a non-global"} (only numpy arrays are understood)`);
}

function build(obj: PyValue, state: PyValue, fail: (w: string) => never): void {
  const r = obj as PyReduce;
  if (!r || typeof r !== "object" || !("$reduce" in r)) fail("BUILD on an unsupported object");
  r.state = state;
  if (NDARRAY_GLOBALS.has(r.$reduce)) {
    // ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata))
    const s = (state as PyTuple).items;
    const shape = (s[1] as PyTuple).items as number[];
    const dt = s[2] as PyReduce;
    const data = s[4];
    if (!(data instanceof Uint8Array)) {
      fail("ndarray with non-bytes data (object arrays are not supported)");
    }
    if (s[3] === true) fail("Fortran-ordered ndarray is not supported");
    const base = String(dt.args[0]);
    const order = dt.state instanceof PyTuple ? String(dt.state.items[1]) : "|";
    const nd = obj as unknown as NdArray;
    Object.assign(nd, { $ndarray: true, dtype: (order === "|" ? "" : order) + base, shape, data });
  }
}

export function isNdArray(v: PyValue | undefined): v is NdArray {
  return typeof v === "object" && v !== null && "$ndarray" in v;
}
