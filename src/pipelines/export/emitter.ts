// Layer-level ONNX emission over OnnxGraphBuilder: each method takes a kdep layer and the
// name of its input value and returns the name of its output. Weights become initializers
// under their state-dict keys. BatchNormalization is kept as its own node (not folded into
// the conv): the file then holds exactly the checkpoint's tensors, and ONNX Runtime fuses
// Conv+BN itself when it loads the model, so folding here would gain nothing at run time.
import { OnnxGraphBuilder, type OnnxTensor } from "../../io/onnx/index.js";
import type { BatchNorm2d } from "../../nn/batchnorm.js";
import type { Conv2d, Linear } from "../../nn/linear.js";
import type { Module } from "../../nn/module.js";
import type { Tensor } from "../../tensor/tensor.js";

type Pair = number | [number, number];
const pair = (p: Pair | undefined, dflt: number): [number, number] =>
  p === undefined ? [dflt, dflt] : typeof p === "number" ? [p, p] : p;

export class OnnxEmitter {
  readonly graph: OnnxGraphBuilder;
  /** State-dict prefix of every module of the exported model. */
  readonly #prefix = new Map<Module, string>();

  constructor(
    readonly model: Module,
    graphName: string,
  ) {
    this.graph = new OnnxGraphBuilder(graphName);
    for (const [name, m] of model.namedModules()) this.#prefix.set(m, name);
  }

  /** The state-dict prefix of `m` (its node names derive from it). */
  nameOf(m: Module): string {
    const p = this.#prefix.get(m);
    if (p === undefined) throw new Error("internal error: layer is not part of the exported model");
    return p;
  }

  #weight(m: Module, key: string): string {
    const t = m.getParameter(key) ?? m.getBuffer(key);
    if (!t) throw new Error(`${this.nameOf(m)}.${key}: missing tensor`);
    return this.graph.initializer(floatTensor(`${this.nameOf(m)}.${key}`, t));
  }

  conv(c: Conv2d, x: string): string {
    const [ph, pw] = pair(c.config.padding, 0);
    const inputs = [x, this.#weight(c, "weight")];
    if (c.bias) inputs.push(this.#weight(c, "bias"));
    const [kh, kw] = c.weight.shape.slice(2);
    return this.graph.node("Conv", this.nameOf(c), inputs, {
      kernel_shape: [kh, kw],
      strides: pair(c.config.stride, 1),
      pads: [ph, pw, ph, pw],
      dilations: pair(c.config.dilation, 1),
      group: c.config.groups ?? 1,
    });
  }

  /** Inference-mode BatchNormalization with the running statistics. */
  batchNorm(bn: BatchNorm2d, x: string): string {
    const inputs = ["weight", "bias", "running_mean", "running_var"].map((k) =>
      this.#weight(bn, k),
    );
    return this.graph.node("BatchNormalization", this.nameOf(bn), [x, ...inputs], {
      epsilon: { float: bn.eps },
    });
  }

  relu(x: string, name: string): string {
    return this.graph.node("Relu", name, [x]);
  }

  /** ReLU6 as Clip(0, 6); opset 11+ takes the bounds as inputs. */
  relu6(x: string, name: string): string {
    const lo = this.#scalar("clip.min", 0);
    const hi = this.#scalar("clip.max", 6);
    return this.graph.node("Clip", name, [x, lo, hi]);
  }

  add(a: string, b: string, name: string): string {
    return this.graph.node("Add", name, [a, b]);
  }

  maxPool(x: string, name: string, kernel: number, stride: number, pad: number): string {
    return this.graph.node("MaxPool", name, [x], {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
  }

  /** kdep's head: adaptive average pool to 1×1 (any input size), flattened to [N, C]. */
  poolFlatten(x: string, name: string): string {
    const p = this.graph.node("GlobalAveragePool", `${name}.pool`, [x]);
    return this.graph.node("Flatten", name, [p], { axis: 1 });
  }

  /** Linear as Gemm with the weight as stored by PyTorch ([out, in], so transB). */
  linear(l: Linear, x: string): string {
    const inputs = [x, this.#weight(l, "weight")];
    if (l.getParameter("bias")) inputs.push(this.#weight(l, "bias"));
    return this.graph.node("Gemm", this.nameOf(l), inputs, { transB: 1 });
  }

  #scalar(name: string, v: number): string {
    if (this.graph.initializers.some((t) => t.name === name)) return name;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setFloat32(0, v, true);
    return this.graph.initializer({ name, dtype: "float32", dims: [], data });
  }
}

function floatTensor(name: string, t: Tensor): OnnxTensor {
  if (t.dtype !== "float32") {
    throw new Error(`${name}: ONNX export writes float32 weights, this one is ${t.dtype}`);
  }
  const cpu = t.device === "cpu" ? t : t.to({ device: "cpu" });
  const data = cpu.toBytes();
  if (cpu !== t) cpu.dispose();
  return { name, dtype: "float32", dims: t.shape, data };
}
