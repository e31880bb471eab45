// Stateless layers and containers.
import type { Tensor } from "../tensor/tensor.js";
import * as F from "./functional.js";
import { type Layer, Module } from "./module.js";

type Pair = number | [number, number];

/** max(x, 0), optionally in place. */
export class ReLU extends Module {
  constructor(readonly inplace = false) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.inplace ? x.relu_() : F.relu(x);
  }
}

/** min(max(x, 0), 6). */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return F.relu6(x);
  }
}

/** Returns its input. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dimensions startDim…endDim into one. */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** 2-D max pooling. */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: F.PoolOptions & { dilation?: Pair } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.options);
  }
}

/** 2-D average pooling. */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: F.PoolOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Average pooling to a fixed output size, whatever the input size. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}

/**
 * Zeroes elements with probability p while training (scaled by 1/(1−p)); the identity in eval
 * mode.
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.p === 0 ? x : F.dropout(x, this.p, this.training);
  }
}

/** Zeroes whole channels with probability p while training; the identity in eval mode. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.p === 0 ? x : F.dropout2d(x, this.p, this.training);
  }
}

/** Children named "0", "1", … and applied in order (nn.Sequential). */
export class Sequential extends Module {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => {
      this.registerModule(String(i), l);
    });
  }
  get length(): number {
    return this.layers.length;
  }
  at(i: number): Layer {
    const l = this.layers[i < 0 ? i + this.layers.length : i];
    if (!l)
      throw new RangeError(`Sequential index ${i} out of range (${this.layers.length} layers)`);
    return l;
  }
  /** Frees each intermediate as soon as the next layer has consumed it (autograd keeps what
   * backward needs), so inference peaks at two activations instead of all of them. */
  forward(x: Tensor): Tensor {
    let out = x;
    for (const l of this.layers) {
      const next = l.forward(out);
      if (out !== x && next !== out) out.dispose();
      out = next;
    }
    return out;
  }
}

/** Children named "0", "1", … without a forward of their own (nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(items: M[] = []) {
    super();
    for (const m of items) this.push(m);
  }
  push(m: M): void {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
