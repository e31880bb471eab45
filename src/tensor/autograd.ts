// Gradient-mode switches. libtorch's modes are thread-local guards; JS code is single
// threaded, so a try/finally around the callback restores the previous state exactly.
import { native } from "../native/binding.js";
import type { Tensor } from "./tensor.js";

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording on, even inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

export const isGradEnabled = (): boolean => native.isGradEnabled();

/**
 * Runs fn in inference mode (torch.inference_mode): faster than noGrad, but tensors made
 * inside can never join an autograd graph later.
 */
export function inferenceMode<T>(fn: () => T): T {
  native.enterInferenceMode();
  try {
    return fn();
  } finally {
    native.exitInferenceMode();
  }
}

/** Back-propagates from several outputs at once (torch.autograd.backward). */
export function backward(
  outputs: Tensor[],
  grads?: Tensor[],
  opts: { retainGraph?: boolean; createGraph?: boolean } = {},
): void {
  native.backward(
    outputs.map((t) => t.handle),
    grads ? grads.map((g) => g.handle) : null,
    opts.retainGraph,
    opts.createGraph ?? false,
  );
}
