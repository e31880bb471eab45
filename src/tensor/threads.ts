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

// Large CPU blocks (≥ 1 MiB) go through a caching allocator (native/src/cpu_cache.cc):
// freed blocks are kept for the next request of about their size, so a training step's
// activations are not page-faulted in again on every step, but the process never maps more
// than its peak live total, so its peak memory is what the work needs at its busiest point
// (measured below PyTorch's). Blocks of 4 MiB and more ask for transparent huge pages (one
// fault per 2 MiB; a no-op where THP is off): with them the page faults are fewer than with
// the old glibc tuning at half its peak memory (docs/target-cache.md).
// KDEP_CPU_CACHE_MIB bounds the free blocks kept (default 1024), KDEP_CPU_CACHE_THP=0 turns
// huge pages off, KDEP_CPU_CACHE=0 falls back to that glibc tuning (mmap off, 1 GiB trim
// threshold; users' own MALLOC_* settings win; KDEP_MALLOC_TUNING=0 opts out of it too).
const envMib = Number(process.env.KDEP_CPU_CACHE_MIB);
if (process.env.KDEP_CPU_CACHE !== "0") {
  native.installCpuCache(
    2 ** 20,
    (envMib >= 0 ? envMib : 1024) * 2 ** 20,
    process.env.KDEP_CPU_CACHE_THP !== "0",
  );
} else if (
  process.env.KDEP_MALLOC_TUNING !== "0" &&
  !Object.keys(process.env).some((k) => k.startsWith("MALLOC_") && k.endsWith("_"))
) {
  native.tuneAllocator(32 * 2 ** 20, 2 ** 30, 0);
}

/** The caching CPU allocator's counters (null with KDEP_CPU_CACHE=0). */
export const cpuCacheStats = () => native.cpuCacheStats();

/** Number of CUDA devices the loaded libtorch can see (0 for CPU builds). */
export const cudaDeviceCount = (): number => native.cudaDeviceCount();

/** Tensors alive in the native layer: for leak tests. */
export const liveTensors = (): number => native.liveCount();
