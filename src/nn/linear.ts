// Conv2d and Linear, initialised exactly as PyTorch's reset_parameters().
import { empty } from "../tensor/ops/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { conv2d, linear } from "./functional.js";
import { fans, kaimingUniform_, uniform_ } from "./init.js";
import { Module } from "./module.js";

type Pair = number | [number, number];

// PyTorch's default: kaiming_uniform(a=√5) on the weight, U(±1/√fan_in) on the bias.
function resetParameters(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = fans(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/** Options of {@link Conv2d}. */
export interface Conv2dConfig {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/** 2-D convolution with PyTorch's parameter layout ([out, in/groups, kh, kw]) and default init. */
export class Conv2d extends Module {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    readonly config: Conv2dConfig = {},
  ) {
    super();
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    const groups = config.groups ?? 1;
    if (inChannels % groups || outChannels % groups) {
      throw new Error(
        `Conv2d: channels ${inChannels}→${outChannels} are not divisible by groups=${groups}`,
      );
    }
    const w = this.registerParameter("weight", empty([outChannels, inChannels / groups, kh, kw]));
    const b = this.registerParameter("bias", config.bias === false ? null : empty([outChannels]));
    resetParameters(w, b);
  }
  get weight(): Tensor {
    return this.getParameter("weight")!;
  }
  get bias(): Tensor | null {
    return this.getParameter("bias");
  }
  get stride(): Pair {
    return this.config.stride ?? 1;
  }
  /** Changes stride/dilation/padding after construction (dilated ResNets for segmentation). */
  reconfigure(c: Partial<Pick<Conv2dConfig, "stride" | "padding" | "dilation">>): void {
    Object.assign(this.config, c);
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.config);
  }
}

/** y = x·Wᵀ + b with PyTorch's parameter layout ([out, in]) and default init. */
export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    const w = this.registerParameter("weight", empty([outFeatures, inFeatures]));
    const b = this.registerParameter("bias", bias ? empty([outFeatures]) : null);
    resetParameters(w, b);
  }
  get weight(): Tensor {
    return this.getParameter("weight")!;
  }
  get bias(): Tensor | null {
    return this.getParameter("bias");
  }
  forward(x: Tensor): Tensor {
    if (x.size(-1) !== this.inFeatures) {
      throw new Error(
        `Linear expects ${this.inFeatures} input features but received shape [${x.shape}]`,
      );
    }
    return linear(x, this.weight, this.bias);
  }
}
