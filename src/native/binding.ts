// The whole native contract, typed. Everything here is a thin call into native/src/*.cc:
// handles in, handles out, C++ exceptions arrive as JS errors.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * An opaque reference to a libtorch tensor: a tagged number naming a slot of the addon's
 * table. The brand keeps plain numbers from being passed where a tensor is expected.
 */
export type NativeHandle = number & { readonly __kdepTensorHandle: unique symbol };

/** Whether an op result is a tensor handle (handles are tagged with 2^52; see handle.cc). */
export function isHandleValue(r: unknown): r is NativeHandle {
  return typeof r === "number" && r >= 4503599627370496;
}

/** Arguments an ATen operator accepts, converted by the native layer per the op's schema. */
export type OpArg =
  | NativeHandle
  | number
  | bigint
  | boolean
  | string
  | null
  | undefined
  | { f: number }
  | readonly OpArg[];

/** What an ATen operator returns: one value, or an array for multiple returns. */
export type OpResult = NativeHandle | number | boolean | string | null | OpResult[];

export interface Binding {
  /** `unboxed`: called without the boxed stack (see native/src/unboxed.h). */
  lookupOp(name: string, overload: string): { id: number; schema: string; unboxed: boolean };
  callOp(id: number, ...args: OpArg[]): OpResult;
  /** Same as callOp but converts no result: for in-place ops that return their input. */
  callOpDiscard(id: number, ...args: OpArg[]): undefined;
  fromBuffer(data: ArrayBufferView, shape: readonly number[], dtype: number): NativeHandle;
  toBuffer(h: NativeHandle): ArrayBuffer;
  externalView(h: NativeHandle): ArrayBuffer;
  meta(h: NativeHandle): [number[], number, string];
  strides(h: NativeHandle): number[];
  storageOffset(h: NativeHandle): number;
  dataPtr(h: NativeHandle): bigint;
  isContiguous(h: NativeHandle, memoryFormat?: number): boolean;
  item(h: NativeHandle): number;
  requiresGrad(h: NativeHandle): boolean;
  setRequiresGrad(h: NativeHandle, on: boolean): void;
  isLeaf(h: NativeHandle): boolean;
  grad(h: NativeHandle): NativeHandle | null;
  setGrad(h: NativeHandle, g: NativeHandle | null): void;
  retainGrad(h: NativeHandle): void;
  gradFnName(h: NativeHandle): string | null;
  backward(
    outputs: NativeHandle[],
    grads: NativeHandle[] | null,
    retainGraph: boolean | undefined,
    createGraph: boolean,
  ): void;
  /** Frees the tensor; false when it was already freed (a stale handle is harmless). */
  dispose(h: NativeHandle): boolean;
  isHandle(v: unknown): boolean;
  liveCount(): number;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number | bigint): void;
  getRngState(): NativeHandle;
  setRngState(state: NativeHandle): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  enterInferenceMode(): number;
  exitInferenceMode(): number;
  isInferenceTensor(h: NativeHandle): boolean;
  cudaDeviceCount(): number;
  version(): { libtorch?: string; parallel: string };
  tuneAllocator(mmapThreshold: number, trimThreshold: number, mmapMax?: number): boolean;
  installCpuCache(
    minBytes: number,
    maxFreeBytes: number,
    hugePages?: boolean,
    slack?: number,
  ): boolean;
  cpuCacheStats(): CpuCacheStats | null;
  releaseCpuCache(): void;
  /** Lets the caching allocator map up to `f` above its peak live total; false when not installed. */
  setCpuCacheSlack(f: number): boolean;
  /** Sets autocast for "cpu" or "cuda"; returns the previous [enabled, dtype code]. */
  setAutocast(device: string, enabled: boolean, dtypeCode: number): [boolean, number];
  /** dlopen(RTLD_GLOBAL) of an operator library: its ops join the dispatcher. */
  loadLibrary(path: string): boolean;
  // c10d (native/src/dist.cc): one process group per process; timeouts in milliseconds.
  distInit(o: DistInitOptions): void;
  distDestroy(): void;
  distAllReduce(tensors: NativeHandle[], op: "sum" | "max" | "min", timeoutMs?: number): void;
  /** A new tensor: the sum over ranks; its gradient is the sum of all ranks' gradients. */
  distAllReduceDiff(h: NativeHandle): NativeHandle;
  distBroadcast(tensors: NativeHandle[], root: number, timeoutMs?: number): void;
  distAllGather(h: NativeHandle, timeoutMs?: number): NativeHandle[];
  distBarrier(timeoutMs?: number): void;
  distStoreSet(key: string, value: string): void;
  distStoreCheck(keys: string[]): boolean;
  /** The process-group backends compiled in: "gloo" (Gloo headers found), "nccl" (CUDA). */
  distBackends(): string[];
  /**
   * From now on every backward reaching these parameters averages their gradients over the
   * ranks, bucket by bucket while it runs (all-reduces started from gradient hooks).
   */
  distOverlapNew(buckets: NativeHandle[][]): number;
  /** Bytes the last backward all-reduced. */
  distOverlapBytes(id: number): number;
}

export interface DistInitOptions {
  rank: number;
  worldSize: number;
  /** The TCPStore's host and port (MASTER_ADDR, MASTER_PORT). */
  host: string;
  port: number;
  /** Rank 0 hosts the store, unless a launcher's agent store is used (then all are clients). */
  isServer: boolean;
  /** A launcher's store namespace (torchrun: /worker/attempt_<n>). */
  prefix?: string;
  /** Network interface for Gloo (GLOO_SOCKET_IFNAME); else `hostname`, else this host's name. */
  iface?: string;
  hostname?: string;
  /** Store connection and every collective's default timeout. */
  timeoutMs: number;
  backend?: "gloo" | "nccl";
}

export interface CpuCacheStats {
  /** Bytes held in freed blocks, ready for reuse. */
  cachedBytes: number;
  /** Bytes of every block the cache mapped (live and free). */
  mappedBytes: number;
  hits: number;
  misses: number;
  minBytes: number;
  maxFreeBytes: number;
  /** Bytes of the blocks in use now, and the most ever in use at once. */
  liveBytes: number;
  peakLiveBytes: number;
  /** The most bytes mapped at once. */
  peakMappedBytes: number;
  /** Free blocks unmapped so far to stay within the peak (page faults to come). */
  evictedBytes: number;
  /** Free blocks held now (after joining neighbours). */
  freeBlocks: number;
}

function load(): Binding {
  const file = fileURLToPath(
    new URL("../../../native/build/Release/kdep_native.node", import.meta.url),
  );
  if (!existsSync(file)) {
    throw new Error(
      `The kdep native addon is not built (expected ${file}). Run "npm rebuild kdep" in ` +
        'your project, or "npm run build:native" in a kdep checkout (it needs libtorch: ' +
        "Debian's libtorch-dev, or LIBTORCH=/path/to/libtorch).",
    );
  }
  return createRequire(import.meta.url)(file) as Binding;
}

export const native: Binding = load();
