export { OnnxEmitter } from "./emitter.js";
export { ONNX_GRAPHS, type OnnxGraphEntry } from "./graphs.js";
export {
  exportCheckpointOnnx,
  exportOnnx,
  type OnnxCheckpointExportOptions,
  type OnnxExportOptions,
  type OnnxExportResult,
  type OnnxOutput,
} from "./onnx.js";
