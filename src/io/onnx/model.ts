// An ONNX model as plain data, and its encoding through protobufjs with the schema in
// schema.ts (the schema is parsed once, at first use).
import protobuf from "protobufjs";
import { atomicWriteFile } from "../atomicWrite.js";
import { ONNX_DTYPE, ONNX_IR_VERSION, ONNX_OPSET, ONNX_PROTO } from "./schema.js";

/** A named initializer: float32 or int64 data, C order, little endian. */
export interface OnnxTensor {
  name: string;
  dtype: keyof typeof ONNX_DTYPE;
  dims: number[];
  data: Uint8Array;
}

export type OnnxAttribute = number | number[] | string | { ints: number[] } | { float: number };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, OnnxAttribute>;
}

/** A graph input or output: float32, each dimension a size or a symbolic name ("batch"). */
export interface OnnxValue {
  name: string;
  dims: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

export interface OnnxModelInfo {
  producerVersion: string;
  docString?: string;
  /** metadata_props: free key/value pairs (kdep records the architecture and source file). */
  metadata?: Record<string, string>;
}

let modelType: protobuf.Type | null = null;
function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelType;
}

// AttributeType values of the schema: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7.
function attribute(name: string, v: OnnxAttribute): Record<string, unknown> {
  if (typeof v === "string") return { name, type: 3, s: Buffer.from(v, "utf8") };
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use { float: ${v} } for floats`);
    return { name, type: 2, i: v };
  }
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ("ints" in v) return { name, type: 7, ints: v.ints };
  return { name, type: 1, f: v.float };
}

function valueInfo(v: OnnxValue): Record<string, unknown> {
  const dim = v.dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d }));
  return {
    name: v.name,
    type: { tensor_type: { elem_type: ONNX_DTYPE.float32, shape: { dim } } },
  };
}

/** Serialises a graph as an ONNX ModelProto (IR 8, default-domain opset 17). */
export function onnxBytes(graph: OnnxGraph, info: OnnxModelInfo): Uint8Array {
  const type = onnxModelType();
  const message = {
    ir_version: ONNX_IR_VERSION,
    producer_name: "kdep",
    producer_version: info.producerVersion,
    doc_string: info.docString ?? "",
    opset_import: [{ domain: "", version: ONNX_OPSET }],
    metadata_props: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: graph.initializers.map((t) => ({
        name: t.name,
        dims: t.dims,
        data_type: ONNX_DTYPE[t.dtype],
        raw_data: t.data,
      })),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
  const problem = type.verify(message);
  if (problem) throw new Error(`internal error building the ONNX model: ${problem}`);
  return type.encode(type.fromObject(message)).finish();
}

/** Writes the model atomically (a failed export leaves no partial file). */
export function writeOnnx(path: string, graph: OnnxGraph, info: OnnxModelInfo): number {
  const bytes = onnxBytes(graph, info);
  atomicWriteFile(path, bytes);
  return bytes.byteLength;
}
