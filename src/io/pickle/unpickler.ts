// A safe unpickler for protocols 0–5. It interprets the pickle opcodes itself and never
// executes Python: every global a pickle names must be on the allow-list in globals.ts, and
// only those may be called (REDUCE, NEWOBJ, INST, OBJ) or built (BUILD). Malformed input
// ends in an Error that names the source and the byte offset; the loop always advances, so
// it cannot hang.
import {
  buildObject,
  materializeTensors,
  type PendingTensor,
  PyGlobal,
  resolveGlobal,
  type UnpickleEnv,
} from "./globals.js";
import { py2str, rawUnicodeEscape, unquote } from "./textLiterals.js";
import { PyTuple, type PyValue, quoteName } from "./values.js";

export interface UnpickleOptions {
  /** Name used in error messages (file, and entry inside an archive). */
  source?: string;
  /** Byte offset where the pickle starts (legacy .pth files hold several in a row). */
  offset?: number;
  /** Resolves a persistent id (torch uses them for storages). Refused when absent. */
  persistentLoad?: (pid: PyValue, env: UnpickleEnv) => unknown;
  /** Collects tensors to materialise later; when omitted they are materialised at STOP. */
  pending?: PendingTensor[];
}

export interface UnpickleResult {
  value: PyValue;
  /** Offset just past the STOP opcode. */
  end: number;
}

const MAX_LONG_BYTES = 4096;
const td = new TextDecoder("utf-8", { fatal: true });

export function unpickle(bytes: Uint8Array, opts: UnpickleOptions = {}): UnpickleResult {
  const source = opts.source ?? "<pickle>";
  const env: UnpickleEnv = { source, pending: opts.pending ?? [] };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = opts.offset ?? 0;
  let opAt = pos;

  const err = (msg: string): never => {
    throw new Error(`${source}: ${msg} (pickle opcode at offset ${opAt})`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) err("pickle data ends unexpectedly");
    const p = pos;
    pos += n;
    return p;
  };
  const take = (n: number): Uint8Array => {
    const p = need(n);
    return bytes.subarray(p, p + n);
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) err("length too large");
    return Number(v);
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) err("pickle data ends inside a text line");
    const s = Buffer.from(bytes.subarray(pos, nl)).toString("latin1");
    pos = nl + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => {
    try {
      return td.decode(b);
    } catch {
      return err("invalid UTF-8 in a string");
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) {
      err("stack underflow");
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) err("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return err("MARK expected but not found");
    return stack.splice(m);
  };
  const callable = (f: unknown): PyGlobal => {
    if (!(f instanceof PyGlobal) || !f.call) {
      return err(`calling ${f instanceof PyGlobal ? f.qualname : "a non-global"} is not allowed`);
    }
    return f;
  };
  const call = (f: unknown, args: unknown): unknown => {
    const g = callable(f);
    if (!(args instanceof PyTuple)) return err(`arguments of ${g.qualname} are not a tuple`);
    return g.call!(args.items, env);
  };
  const setItems = (d: unknown, kv: unknown[]): void => {
    if (!(d instanceof Map)) err("SETITEM(S) on a non-dict");
    if (kv.length % 2 !== 0) err("SETITEMS with an odd number of items");
    const m = d as Map<unknown, unknown>;
    for (let i = 0; i < kv.length; i += 2) m.set(kv[i], kv[i + 1]);
  };
  const appendAll = (l: unknown, items: unknown[]): void => {
    if (l instanceof Set) for (const x of items) l.add(x);
    else if (Array.isArray(l)) for (const x of items) l.push(x);
    else err("APPEND(S) on a non-list");
  };
  const int = (v: bigint): number | bigint =>
    v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  const long = (b: Uint8Array): number | bigint => {
    // Building a BigInt byte by byte is quadratic; no weights file needs such an integer.
    if (b.length > MAX_LONG_BYTES) err(`integer of ${b.length} bytes is too long`);
    // Little-endian two's complement of any width.
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };
  const textInt = (s: string): number | bigint => {
    const t = s.endsWith("L") ? s.slice(0, -1) : s;
    if (t.length > MAX_LONG_BYTES) err(`integer literal of ${t.length} digits is too long`);
    if (!/^[+-]?\d+$/.test(t)) err(`bad integer literal ${JSON.stringify(quoteName(s))}`);
    return int(BigInt(t));
  };

  while (true) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) err("pickle protocol above 5");
        break;
      case 0x95: // FRAME: framing is only a read-ahead hint
        u64();
        break;
      case 0x2e: {
        // STOP
        const value = pop() as PyValue;
        if (!opts.pending) materializeTensors(env, value);
        return { value, end: pos };
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // --- constants and numbers
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: {
        // INT (protocol 0); "01"/"00" are True/False
        const s = line();
        stack.push(s === "01" ? true : s === "00" ? false : textInt(s));
        break;
      }
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4c: // LONG (text)
        stack.push(textInt(line()));
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = view.getInt32(need(4), true);
        stack.push(long(take(n)));
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const s = line().trim();
        const v = Number(
          s === "nan" ? Number.NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : s,
        );
        if (Number.isNaN(v) && s !== "nan")
          err(`bad float literal ${JSON.stringify(quoteName(s))}`);
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      // --- strings and bytes
      case 0x53: // STRING (protocol 0, Python 2 str as a quoted repr)
        stack.push(unquote(line(), err));
        break;
      case 0x54: // BINSTRING
        stack.push(py2str(take(view.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(py2str(take(u8())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(rawUnicodeEscape(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x42: // BINBYTES
        stack.push(Uint8Array.from(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Uint8Array.from(take(u8())));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(Uint8Array.from(take(u64())));
        break;
      // --- containers
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop() as PyValue]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b] as PyValue[]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c] as PyValue[]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark() as PyValue[]));
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
        appendAll(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendAll(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const d = new Map();
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
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) err("ADDITEMS on a non-set");
        appendAll(s, items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      // --- memo
      case 0x70: // PUT
        memo.set(Number(textInt(line())), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x67 ? Number(textInt(line())) : op === 0x68 ? u8() : u32();
        if (!memo.has(k)) err(`memo key ${k} is not defined`);
        stack.push(memo.get(k));
        break;
      }
      // --- globals and object construction (allow-listed only)
      case 0x63: {
        // GLOBAL "module\nname\n"
        const mod = line();
        stack.push(resolveGlobal(mod, line(), env));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const mod = pop();
        if (typeof mod !== "string" || typeof name !== "string") err("STACK_GLOBAL needs strings");
        stack.push(resolveGlobal(mod as string, name as string, env));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const f = pop();
        stack.push(call(f, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); allowed types construct like a call
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) err("NEWOBJ_EX with keyword arguments");
        stack.push(call(cls, args));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" with args above the mark
        const mod = line();
        const g = resolveGlobal(mod, line(), env);
        stack.push(call(g, new PyTuple(popMark() as PyValue[])));
        break;
      }
      case 0x6f: {
        // OBJ: cls and args above the mark
        const items = popMark();
        stack.push(call(items[0], new PyTuple(items.slice(1) as PyValue[])));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        buildObject(top(), state, env);
        break;
      }
      case 0x51: // BINPERSID
      case 0x50: {
        // PERSID
        const pid = op === 0x50 ? line() : pop();
        if (!opts.persistentLoad) err("persistent id found but this file type has no storages");
        stack.push(opts.persistentLoad!(pid as PyValue, env));
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        err("extension registry opcodes are not supported");
        break;
      case 0x97: // NEXT_BUFFER
        err("out-of-band buffers are not supported");
        break;
      case 0x98: // READONLY_BUFFER
        break;
      default:
        err(`unknown pickle opcode 0x${op.toString(16).padStart(2, "0")}`);
    }
  }
}
