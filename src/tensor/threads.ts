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

// Large CPU blocks (≥ 1 MiB) go through a caching allocator (native/src/cpu_cache.cc): a
// request takes the smallest free block that holds it and splits off the rest, and freed
// blocks join their free neighbours, so a training step's activations are served from pages
// already resident whatever their sizes. The process never maps more than its peak live
// total plus a slack, so its peak memory stays what the work needs at its busiest point
// (measured below PyTorch's). Blocks of 2 MiB and more ask for transparent huge pages (one
// fault per 2 MiB; a no-op where THP is off). Smaller blocks stay with glibc, told to serve
// them from its heap (mmap threshold 1 MiB) and keep up to 64 MiB free at its top instead
// of trimming it after every step (measured: a third fewer page faults, +7 MiB peak).
// KDEP_CPU_CACHE_MIB bounds the free blocks kept (default 4096: the peak bound is what
// limits memory; at 1024, Faster R-CNN inference at 800 px re-mapped its large blocks every
// image). Training may map up to 25% above the peak live total, so the blocks of a step's
// many sizes stay resident; one-off inference passes (the SVD pass, the target cache build)
// run with 10% (`withTightCpuCache`), where more only costs memory and none at all makes
// best fit re-map about a third of a batch's activations (docs/target-cache.md has the
// figures). KDEP_CPU_CACHE_SLACK=f sets the slack everywhere; KDEP_CPU_CACHE_THP=0 turns
// huge pages off, KDEP_CPU_CACHE=0 falls back to the former glibc tuning (mmap off, 1 GiB
// trim threshold). Users' own MALLOC_*_ settings win over either glibc tuning, and
// KDEP_MALLOC_TUNING=0 leaves glibc's defaults alone.
const envMib = Number(process.env.KDEP_CPU_CACHE_MIB);
const TRAINING_SLACK = 0.25;
const INFERENCE_SLACK = 0.1;
const envSlack =
  process.env.KDEP_CPU_CACHE_SLACK !== undefined ? Number(process.env.KDEP_CPU_CACHE_SLACK) : null;
const tuneGlibc =
  process.env.KDEP_MALLOC_TUNING !== "0" &&
  !Object.keys(process.env).some((k) => k.startsWith("MALLOC_") && k.endsWith("_"));
if (process.env.KDEP_CPU_CACHE !== "0") {
  native.installCpuCache(
    2 ** 20,
    (envMib >= 0 ? envMib : 4096) * 2 ** 20,
    process.env.KDEP_CPU_CACHE_THP !== "0",
    envSlack ?? TRAINING_SLACK,
  );
  if (tuneGlibc) native.tuneAllocator(2 ** 20, 64 * 2 ** 20);
} else if (tuneGlibc) {
  native.tuneAllocator(32 * 2 ** 20, 2 ** 30, 0);
}

/**
 * Runs `fn` with the caching CPU allocator bounded closer to the peak live total (10% over
 * it instead of 25%), as one-off inference passes over a data set want; the training slack
 * is restored after.
 */
export async function withTightCpuCache<R>(fn: () => Promise<R>): Promise<R> {
  if (envSlack !== null) return fn();
  native.setCpuCacheSlack(INFERENCE_SLACK);
  try {
    return await fn();
  } finally {
    native.setCpuCacheSlack(TRAINING_SLACK);
  }
}

/** The caching CPU allocator's counters (null with KDEP_CPU_CACHE=0). */
export const cpuCacheStats = () => native.cpuCacheStats();

/** Number of CUDA devices the loaded libtorch can see (0 for CPU builds). */
export const cudaDeviceCount = (): number => native.cudaDeviceCount();

/** Tensors alive in the native layer: for leak tests. */
export const liveTensors = (): number => native.liveCount();
