// Builds an OnnxGraph node by node: each call names its output after the node (unique names,
// readable in Netron), and initializers are added once under the name given (kdep uses the
// state-dict key, so a weight in the .onnx file is found by its PyTorch name).
import type { OnnxAttribute, OnnxGraph, OnnxNode, OnnxTensor, OnnxValue } from "./model.js";

export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly #names = new Set<string>();

  constructor(readonly name: string) {}

  /** Adds an initializer; its name is also the value name nodes refer to. */
  initializer(t: OnnxTensor): string {
    this.#claim(t.name);
    this.initializers.push(t);
    return t.name;
  }

  /** Adds a constant int64 tensor (shapes, axes) and returns its name. */
  int64s(name: string, values: readonly number[]): string {
    const data = new Uint8Array(values.length * 8);
    const view = new DataView(data.buffer);
    for (const [i, v] of values.entries()) view.setBigInt64(i * 8, BigInt(v), true);
    return this.initializer({ name, dtype: "int64", dims: [values.length], data });
  }

  /** Adds one node with a single output named `name` and returns that name. */
  node(
    opType: string,
    name: string,
    inputs: string[],
    attributes?: Record<string, OnnxAttribute>,
  ): string {
    this.#claim(name);
    this.nodes.push({ opType, name, inputs, outputs: [name], attributes });
    return name;
  }

  build(inputs: OnnxValue[], outputs: OnnxValue[]): OnnxGraph {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs,
      outputs,
    };
  }

  #claim(name: string): void {
    if (this.#names.has(name))
      throw new Error(`internal error: ONNX value "${name}" defined twice`);
    this.#names.add(name);
  }
}
