// Intra-op threads. Debian's libtorch starts with one thread; we default to every core,
// which is what PyTorch users get from official builds. KDEP_NUM_THREADS overrides.
import { availableParallelism } from "node:os";
import { native } from "../native/binding.js";

/** Sets libtorch's intra-op thread count. */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

/** libtorch's intra-op thread count. */
export function getNumThreads(): number {
  return native.getNumThreads();
}

export function defaultThreadCount(): number {
  const env = Number(process.env.KDEP_NUM_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

setNumThreads(defaultThreadCount());

// Keep freed activation memory in the process instead of returning it to the kernel after
// every step (measured: a small convnet's forward went from 17 ms to 11 ms). Blocks above
// glibc's largest mmap threshold (32 MiB: a ResNet-50 activation at batch 32 is 100 MB)
// would still be mmap'd and page-faulted in on every step (2.3M minor faults in four
// forwards, 8× fewer without), so mmap is turned off and the heap keeps up to 1 GiB
// free on top. Users' own MALLOC_* settings win; KDEP_MALLOC_TUNING=0 opts out.
// KDEP_CPU_CACHE=1 instead installs a caching allocator for blocks ≥ 1 MiB (native/src/
// cpu_cache.cc) keeping at most KDEP_CPU_CACHE_MIB (1024) of them free: the heap stops
// fragmenting, but its peak memory did not beat this tuning on every workload
// (docs/target-cache.md), so it is not the default.
const envMib = Number(process.env.KDEP_CPU_CACHE_MIB);
if (process.env.KDEP_CPU_CACHE === "1") {
  native.installCpuCache(2 ** 20, (envMib >= 0 ? envMib : 1024) * 2 ** 20);
} else if (
  process.env.KDEP_MALLOC_TUNING !== "0" &&
  !Object.keys(process.env).some((k) => k.startsWith("MALLOC_") && k.endsWith("_"))
) {
  native.tuneAllocator(32 * 2 ** 20, 2 ** 30, 0);
}

/** The caching CPU allocator's counters (null unless KDEP_CPU_CACHE=1). */
export const cpuCacheStats = () => native.cpuCacheStats();

/** Number of CUDA devices the loaded libtorch can see (0 for CPU builds). */
export const cudaDeviceCount = (): number => native.cudaDeviceCount();

/** Tensors alive in the native layer: for leak tests. */
export const liveTensors = (): number => native.liveCount();
