// Intra-op threads. Debian's libtorch starts with one thread; we default to every core,
// which is what PyTorch users get from official builds. KDEP_NUM_THREADS overrides.
import { availableParallelism } from "node:os";
import { native } from "../native/binding.js";

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

export function defaultThreadCount(): number {
  const env = Number(process.env.KDEP_NUM_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

setNumThreads(defaultThreadCount());

// Freed activation memory: blocks of ≥ 1 MiB go to a caching allocator (native/src/
// cpu_cache.cc) that keeps up to KDEP_CPU_CACHE_MIB (default 1024) of freed blocks mapped
// for the next step, so they are not page-faulted in again, and unmaps the rest, so the
// heap does not grow. KDEP_CPU_CACHE=0 falls back to glibc tuning (mmap off, 1 GiB trim
// threshold: as fast, but the heap fragments and only grows); users' own MALLOC_*_
// settings, or KDEP_MALLOC_TUNING=0 as well, leave glibc alone.
const envMib = Number(process.env.KDEP_CPU_CACHE_MIB);
if (process.env.KDEP_CPU_CACHE !== "0") {
  native.installCpuCache(2 ** 20, (envMib >= 0 ? envMib : 1024) * 2 ** 20);
} else if (
  process.env.KDEP_MALLOC_TUNING !== "0" &&
  !Object.keys(process.env).some((k) => k.startsWith("MALLOC_") && k.endsWith("_"))
) {
  native.tuneAllocator(32 * 2 ** 20, 2 ** 30, 0);
}

/** The caching CPU allocator's counters (null when KDEP_CPU_CACHE=0). */
export const cpuCacheStats = () => native.cpuCacheStats();

/** Number of CUDA devices the loaded libtorch can see (0 for CPU builds). */
export const cudaDeviceCount = (): number => native.cudaDeviceCount();

/** Tensors alive in the native layer: for leak tests. */
export const liveTensors = (): number => native.liveCount();
