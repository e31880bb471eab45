export { OnnxGraphBuilder } from "./graph.js";
export {
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModelInfo,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValue,
  onnxBytes,
  writeOnnx,
} from "./model.js";
export { ONNX_IR_VERSION, ONNX_OPSET } from "./schema.js";
