// The allow-list: the only Python globals a pickle may name, each with a TypeScript
// implementation that builds plain data. A pickle is a program, and Python's unpickler runs
// whatever callable it names (os.system included); ours can only run these functions.
import { type DType, ITEM_SIZE } from "../../tensor/dtype.js";
import { parseNumpyDescr } from "../numpyDtype.js";
import {
  byteSwapInPlace,
  contiguousStrides,
  gatherStrided,
  numel,
  type RawTensor,
  viewExtent,
} from "../rawTensor.js";
import { PyOrderedDict, PyTuple, type PyValue, pathTo, pyTypeName, quoteName } from "./values.js";

/** A storage named by a persistent id; `data` may arrive after unpickling (legacy format). */
export class TorchStorage {
  data: Uint8Array | null = null;
  constructor(
    readonly dtype: DType,
    readonly key: string,
    readonly numel: number,
    /** For legacy storage views: the storage this one views, and the offset in elements. */
    readonly base: TorchStorage | null = null,
    readonly baseOffset = 0,
  ) {}
}

/** A tensor whose bytes are copied out of its storage once all storages are read. */
export interface PendingTensor {
  tensor: RawTensor;
  storage: TorchStorage;
  offset: number;
  strides: number[];
}

export interface UnpickleEnv {
  /** File (and entry) name used in every error message. */
  source: string;
  pending: PendingTensor[];
}

/** A resolved, allowed global. Opaque to callers; the unpickler only calls or builds it. */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly call: ((args: unknown[], env: UnpickleEnv) => unknown) | null,
    /** Type objects: torch.FloatStorage etc. carry their dtype. */
    readonly storageDType: DType | null = null,
  ) {}
}

/** numpy.dtype instance; BUILD sets its byte order. */
class NumpyDType {
  bigEndian = false;
  constructor(readonly dtype: DType) {}
}

/** ndarray under construction: `_reconstruct` makes it empty, BUILD fills it in place
 *  (in place matters: the memo already holds a reference to this very object). */
class NdArray implements RawTensor {
  dtype: DType = "uint8";
  shape: number[] = [0];
  data: Uint8Array = new Uint8Array(0);
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
  UntypedStorage: "uint8",
};

function fail(env: UnpickleEnv, msg: string): never {
  throw new Error(`${env.source}: ${msg}`);
}

function intList(v: unknown, what: string, env: UnpickleEnv): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items?.every((x) => typeof x === "number" && Number.isSafeInteger(x))) {
    fail(env, `expected a tuple of ints for ${what}`);
  }
  return items as number[];
}

function rebuildTensor(args: unknown[], env: UnpickleEnv): RawTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) fail(env, "tensor rebuild without a storage");
  if (typeof offset !== "number") fail(env, "tensor storage offset is not an int");
  const shape = intList(size, "tensor size", env);
  const strides = intList(stride, "tensor stride", env);
  if (strides.length !== shape.length) fail(env, "tensor size and stride lengths differ");
  const tensor: RawTensor = { dtype: storage.dtype, shape, data: new Uint8Array(0) };
  env.pending.push({ tensor, storage, offset, strides });
  return tensor;
}

function numpyDType(args: unknown[], env: UnpickleEnv): NumpyDType {
  const descr = args[0];
  const t = typeof descr === "string" ? parseNumpyDescr(descr) : null;
  if (!t) {
    const what =
      typeof descr === "string" ? JSON.stringify(quoteName(descr)) : `of type ${pyTypeName(descr)}`;
    fail(env, `unsupported numpy dtype ${what}`);
  }
  return new NumpyDType(t.dtype);
}

function asBytes(v: unknown): Uint8Array | null {
  if (v instanceof Uint8Array) return v;
  // Python 2 pickles carry raw data as str; its code points are the bytes.
  if (typeof v === "string") return Uint8Array.from(Buffer.from(v, "latin1"));
  return null;
}

function numpyScalar(args: unknown[], env: UnpickleEnv): PyValue {
  const [dt, raw] = args;
  const bytes = asBytes(raw);
  if (!(dt instanceof NumpyDType) || !bytes || bytes.length !== ITEM_SIZE[dt.dtype]) {
    fail(env, "malformed numpy scalar");
  }
  const b = Uint8Array.from(bytes);
  if (dt.bigEndian) byteSwapInPlace(b, b.length);
  const v = new DataView(b.buffer);
  switch (dt.dtype) {
    case "float16":
      return halfToNumber(v.getUint16(0, true));
    case "float32":
      return v.getFloat32(0, true);
    case "float64":
      return v.getFloat64(0, true);
    case "int8":
      return v.getInt8(0);
    case "int16":
      return v.getInt16(0, true);
    case "int32":
      return v.getInt32(0, true);
    case "int64": {
      const x = v.getBigInt64(0, true);
      return Number.isSafeInteger(Number(x)) ? Number(x) : x;
    }
    case "uint8":
      return v.getUint8(0);
    case "bool":
      return v.getUint8(0) !== 0;
    default:
      return fail(env, `unsupported numpy scalar type ${dt.dtype}`);
  }
}

function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function orderedDict(args: unknown[], env: UnpickleEnv): PyOrderedDict {
  const d = new PyOrderedDict();
  if (args.length === 0) return d;
  // Protocol 0/1 pickles pass the items as a list of [key, value] pairs.
  const items = args[0];
  if (!Array.isArray(items)) fail(env, "OrderedDict argument is not a list of pairs");
  for (const it of items) {
    const pair = it instanceof PyTuple ? it.items : Array.isArray(it) ? it : null;
    if (pair?.length !== 2) fail(env, "OrderedDict item is not a pair");
    d.set(pair[0] as PyValue, pair[1] as PyValue);
  }
  return d;
}

function bytesCall(args: unknown[], env: UnpickleEnv): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  if (args[0] instanceof Uint8Array) return Uint8Array.from(args[0]);
  return fail(env, "bytes() is allowed only without arguments or from bytes");
}

const G = (q: string, f: PyGlobal["call"]): [string, PyGlobal] => [q, new PyGlobal(q, f)];

const ALLOWED = new Map<string, PyGlobal>([
  G("collections.OrderedDict", orderedDict),
  G("torch._utils._rebuild_tensor_v2", rebuildTensor),
  G("torch._utils._rebuild_tensor", rebuildTensor),
  // Parameters are tensors plus requires_grad/hooks/state that a weights file does not need.
  G("torch._utils._rebuild_parameter", (a) => a[0]),
  G("torch._utils._rebuild_parameter_with_state", (a) => a[0]),
  G("torch._tensor._rebuild_from_type_v2", (a, env) => {
    const [fn, , args] = a;
    if (!(fn instanceof PyGlobal) || !fn.call || !(args instanceof PyTuple)) {
      fail(env, "malformed _rebuild_from_type_v2");
    }
    return fn.call(args.items, env);
  }),
  // Type objects that only appear as arguments of _rebuild_from_type_v2.
  G("torch._tensor.Tensor", null),
  G("torch.nn.parameter.Parameter", null),
  G("torch.Size", (a) => (a.length === 0 ? new PyTuple([]) : a[0])),
  // Python 3 writes bytes in protocol 2 as _codecs.encode(latin1_text, "latin1").
  G("_codecs.encode", (a, env) => {
    const [text, enc] = a;
    if (typeof text !== "string" || (enc !== "latin1" && enc !== "latin-1")) {
      fail(env, "_codecs.encode is allowed only for latin1 byte strings");
    }
    return asBytes(text);
  }),
  // Protocols 0-2 write b"" as bytes() (named __builtin__.bytes for Python 2's sake).
  G("__builtin__.bytes", bytesCall),
  G("builtins.bytes", bytesCall),
  G("numpy.core.multiarray._reconstruct", () => new NdArray()),
  G("numpy._core.multiarray._reconstruct", () => new NdArray()),
  G("numpy.ndarray", null),
  G("numpy.dtype", numpyDType),
  G("numpy.core.multiarray.scalar", numpyScalar),
  G("numpy._core.multiarray.scalar", numpyScalar),
]);

export function resolveGlobal(module: string, name: string, env: UnpickleEnv): PyGlobal {
  // torch.load renames torch.tensor to torch._tensor (PyTorch moved the module).
  const mod = module === "torch.tensor" ? "torch._tensor" : module;
  const qualname = `${mod}.${name}`;
  const g = ALLOWED.get(qualname);
  if (g) return g;
  // Checkpoints saved on a GPU by old PyTorch name torch.cuda.FloatStorage etc.
  const dt = STORAGE_DTYPES[name];
  if ((mod === "torch" || mod === "torch.cuda") && dt !== undefined) {
    return new PyGlobal(qualname, null, dt);
  }
  return fail(
    env,
    `refusing pickle global ${quoteName(`${module}.${name}`)}: it is not on kdep's allow-list of safe ` +
      "types (tensors, storages, OrderedDict, numpy arrays)",
  );
}

/** pickle BUILD: sets state on an object made by an allowed global. */
export function buildObject(obj: unknown, state: unknown, env: UnpickleEnv): void {
  if (obj instanceof PyOrderedDict) {
    if (state instanceof Map) {
      for (const [k, v] of state) if (typeof k === "string") obj.attrs.set(k, v as PyValue);
      return;
    }
    if (state === null) return;
  } else if (obj instanceof NumpyDType && state instanceof PyTuple) {
    obj.bigEndian = state.items[1] === ">";
    return;
  } else if (obj instanceof NdArray && state instanceof PyTuple) {
    buildNdArray(obj, state.items, env);
    return;
  } else if (obj instanceof TorchStorage || isTensorLike(obj)) {
    return; // tensor state (e.g. requires_grad in old pickles) is irrelevant to weights
  }
  fail(env, `BUILD is not supported on a ${describe(obj)}`);
}

function isTensorLike(x: unknown): boolean {
  return typeof x === "object" && x !== null && "shape" in x && "dtype" in x;
}

function buildNdArray(arr: NdArray, s: unknown[], env: UnpickleEnv): void {
  const [, shapeV, dt, fortran, raw] = s;
  const shape = intList(shapeV, "ndarray shape", env);
  const bytes = asBytes(raw);
  if (!(dt instanceof NumpyDType)) fail(env, "ndarray state without a dtype");
  if (!bytes) fail(env, "ndarray of Python objects is not supported");
  const size = ITEM_SIZE[dt.dtype];
  if (bytes.length !== numel(shape) * size) {
    fail(env, `ndarray data has ${bytes.length} bytes, expected ${numel(shape) * size}`);
  }
  let data: Uint8Array = Uint8Array.from(bytes);
  if (dt.bigEndian) byteSwapInPlace(data, size);
  if (fortran === true && shape.length > 1) {
    // Fortran order is the C order of the reversed shape; read it through reversed strides.
    const fStrides = contiguousStrides([...shape].reverse()).reverse();
    data = gatherStrided(data, size, 0, shape, fStrides);
  }
  arr.dtype = dt.dtype;
  arr.shape = shape;
  arr.data = data;
}

function describe(x: unknown): string {
  if (x instanceof PyGlobal) return x.qualname;
  if (x === null) return "None";
  return typeof x === "object" ? (x.constructor?.name ?? "object") : typeof x;
}

// A view can repeat its storage's bytes (stride 0, overlapping strides), so a tiny file
// could ask for gigabytes. PyTorch keeps such tensors as views; we copy them out, so the
// copies together may exceed the bytes of the storages they view only by this much.
const REPEAT_FACTOR = 8;
const REPEAT_SLACK = 16 * 1024 * 1024;

/** Copies every pending tensor out of its (now loaded) storage; checks extents first.
 *  `root` is the unpickled value, used only to name a tensor in an error. */
export function materializeTensors(env: UnpickleEnv, root?: unknown): void {
  const name = (t: RawTensor) => {
    const p = root === undefined ? null : pathTo(root, t);
    return p ? `tensor ${p}` : "a tensor";
  };
  const seen = new Set<TorchStorage>();
  let budget = REPEAT_SLACK;
  let copied = 0;
  for (const p of env.pending) {
    let st = p.storage;
    let offset = p.offset;
    while (st.base) {
      offset += st.baseOffset;
      st = st.base;
    }
    const { tensor } = p;
    const size = ITEM_SIZE[tensor.dtype];
    if (!st.data) fail(env, `storage ${quoteName(st.key)} was never loaded`);
    const have = st.data.length / size;
    const ext = viewExtent(offset, tensor.shape, p.strides);
    if (ext && (ext.min < 0 || ext.max >= have)) {
      fail(
        env,
        `storage ${quoteName(st.key)} holds ${have} ${tensor.dtype} elements but a tensor of shape ` +
          `[${tensor.shape.join(", ")}] at offset ${offset} with strides [${p.strides.join(", ")}] ` +
          `needs element ${ext.min < 0 ? ext.min : ext.max}`,
      );
    }
    if (!seen.has(st)) budget += REPEAT_FACTOR * st.data.length;
    seen.add(st);
    const bytes = numel(tensor.shape) * size;
    if (copied + bytes > budget) {
      fail(
        env,
        `${name(tensor)} (${tensor.dtype}[${tensor.shape.join(", ")}], strides ` +
          `[${p.strides.join(", ")}]) repeats the ${st.data.length} bytes of storage ${quoteName(st.key)} ` +
          `into ${bytes} bytes; kdep refuses views that blow up their storage like this`,
      );
    }
    copied += bytes;
    tensor.data = gatherStrided(st.data, size, offset, tensor.shape, p.strides);
  }
  env.pending.length = 0;
}
