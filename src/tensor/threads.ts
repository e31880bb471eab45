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
// freed blocks are kept for the next request of their size, so a training step's
// activations are mostly not page-faulted in again, but the process never maps more than
// its peak live total, so its peak memory is what the work needs at its busiest point
// (measured below PyTorch's). Blocks of 2 MiB and more ask for transparent huge pages (one
// fault per 2 MiB; a no-op where THP is off). Smaller blocks stay with glibc, told to serve
// them from its heap (mmap threshold 1 MiB) and keep up to 64 MiB free at its top instead
// of trimming it after every step (measured: a third fewer page faults, +7 MiB peak).
// KDEP_CPU_CACHE_MIB bounds the free blocks kept (default 1024), KDEP_CPU_CACHE_SLACK=0.25
// lets it map up to 25% above the peak (fewer faults, more memory), KDEP_CPU_CACHE_THP=0 turns
// huge pages off, KDEP_CPU_CACHE=0 falls back to the former glibc tuning (mmap off, 1 GiB
// trim threshold). Users' own MALLOC_*_ settings win over either glibc tuning, and
// KDEP_MALLOC_TUNING=0 leaves glibc's defaults alone (docs/target-cache.md).
const envMib = Number(process.env.KDEP_CPU_CACHE_MIB);
const tuneGlibc =
  process.env.KDEP_MALLOC_TUNING !== "0" &&
  !Object.keys(process.env).some((k) => k.startsWith("MALLOC_") && k.endsWith("_"));
if (process.env.KDEP_CPU_CACHE !== "0") {
  native.installCpuCache(
    2 ** 20,
    (envMib >= 0 ? envMib : 1024) * 2 ** 20,
    process.env.KDEP_CPU_CACHE_THP !== "0",
    Number(process.env.KDEP_CPU_CACHE_SLACK ?? 0),
  );
  if (tuneGlibc) native.tuneAllocator(2 ** 20, 64 * 2 ** 20);
} else if (tuneGlibc) {
  native.tuneAllocator(32 * 2 ** 20, 2 ** 30, 0);
}

/** The caching CPU allocator's counters (null with KDEP_CPU_CACHE=0). */
export const cpuCacheStats = () => native.cpuCacheStats();

/** Number of CUDA devices the loaded libtorch can see (0 for CPU builds). */
export const cudaDeviceCount = (): number => native.cudaDeviceCount();

/** Tensors alive in the native layer: for leak tests. */
export const liveTensors = (): number => native.liveCount();
