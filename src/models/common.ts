// Small pieces shared by the model files: the pooled head and the channels-last switch.
import { adaptiveAvgPool2d } from "../nn/functional.js";
import type { Linear } from "../nn/linear.js";
import type { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import type { HeadOptions } from "./backbone.js";

/** Adaptive global average pool (any input size, unlike the reference's AvgPool2d(7)) →
 * flatten → optional classifier. Intermediates are freed; `map` is left to the caller. */
export function poolAndClassify(map: Tensor, fc: Linear | null, opts: HeadOptions = {}): Tensor {
  const p = adaptiveAvgPool2d(map, [1, 1]);
  const pooled = p.flatten(1);
  p.dispose();
  if (fc === null || opts.preLogits) return pooled;
  const logits = fc.forward(pooled);
  pooled.dispose();
  return logits;
}

/**
 * Stores every 4-D parameter of `m` in channels-last (NHWC) memory, as PyTorch's
 * `model.to(memory_format=torch.channels_last)`. The parameter tensors are replaced, so call
 * it before building an optimizer; loadStateDict copies keep the format.
 */
export function convertToChannelsLast(m: Module): void {
  for (const [, mod] of m.namedModules()) {
    for (const [name, p] of [...mod.namedParameters("", false)]) {
      if (p.ndim === 4 && !p.isContiguous("channelsLast")) {
        mod.setTensor(
          name,
          noGrad(() => p.contiguous("channelsLast")),
        );
      }
    }
  }
}

/** The input in channels-last memory when asked, else the input itself (never a copy). */
export function inputFormat(x: Tensor, channelsLast: boolean): Tensor {
  return channelsLast && x.ndim === 4 && !x.isContiguous("channelsLast")
    ? x.contiguous("channelsLast")
    : x;
}
