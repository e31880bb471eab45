// Weight initialisation with torch.nn.init's formulas. Draws come from libtorch's global
// generator in the same order as PyTorch, so with the same seed the values are identical.
import { noGrad } from "../tensor/autograd.js";
import { callAtenInPlace } from "../tensor/opTable.js";
import type { Tensor } from "../tensor/tensor.js";

/** Nonlinearities whose gain {@link calculateGain} knows. */
export type Nonlinearity = "relu" | "leaky_relu" | "linear" | "sigmoid" | "tanh" | "conv2d";

export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "tanh":
      return 5 / 3;
    default:
      return 1;
  }
}

/** fan_in and fan_out of a weight [out, in, *kernel]. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) throw new Error(`Fan in/out need at least 2 dims, got [${s}]`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: s[1] * receptive, fanOut: s[0] * receptive };
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  noGrad(() => callAtenInPlace("uniform_", t.handle, a, b, null));
  return t;
}

export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  noGrad(() => callAtenInPlace("normal_", t.handle, mean, std, null));
  return t;
}

export function constant_(t: Tensor, v: number): Tensor {
  noGrad(() => t.fill_(v));
  return t;
}
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** Options of the Kaiming initialisers (PyTorch's defaults: fan_in, leaky_relu with a = 0). */
export interface KaimingOptions {
  a?: number;
  mode?: "fan_in" | "fan_out";
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const f = fans(t);
  const fan = (o.mode ?? "fan_in") === "fan_in" ? f.fanIn : f.fanOut;
  return calculateGain(o.nonlinearity ?? "leaky_relu", o.a ?? 0) / Math.sqrt(fan);
}

export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, o));
}

export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform_(t, -bound, bound);
}

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const f = fans(t);
  const a = gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return uniform_(t, -a, a);
}

export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const f = fans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (f.fanIn + f.fanOut)));
}
