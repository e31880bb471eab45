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

/** Number of CUDA devices the loaded libtorch can see (0 for CPU builds). */
export const cudaDeviceCount = (): number => native.cudaDeviceCount();

/** Tensors alive in the native layer: for leak tests. */
export const liveTensors = (): number => native.liveCount();
