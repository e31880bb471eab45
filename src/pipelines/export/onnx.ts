// ONNX export of the zoo's classifiers and backbones and of PSPNet segmenters: the graph of
// nodes comes from graphs.ts / pspnetGraph.ts, the weights are the model's own tensors
// (initializers named by state-dict key), the opset is 17. The batch is symbolic; so are
// height and width, except for PSPNet, whose pyramid pooling is written for one input size.
import { readFileSync } from "node:fs";
import { type OnnxGraph, writeOnnx } from "../../io/onnx/index.js";
import { ONNX_OPSET } from "../../io/onnx/schema.js";
import { fromRaw } from "../../io/tensors.js";
import { FasterRcnn } from "../../models/detection/fasterRcnn.js";
import { createModel, type ModelOptions } from "../../models/index.js";
import { PSPNet } from "../../models/pspnet.js";
import type { Module } from "../../nn/module.js";
import { archFamily, checkArch, inferArch } from "../convert/arch.js";
import { readSource } from "../convert/source.js";
import { OnnxEmitter } from "./emitter.js";
import { ONNX_GRAPHS } from "./graphs.js";
import { isPspnetState, pspnetFromCheckpoint } from "./pspnetCheckpoint.js";
import { pspnetGraph } from "./pspnetGraph.js";

const DETECTOR_MISSING =
  "a detector (Faster R-CNN): its ONNX graph (region proposals, RoIAlign, per-class NMS) " +
  "is not written yet";

/** Which output the exported graph has. */
export type OnnxOutput = "auto" | "logits" | "features";

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /**
   * "logits": the classifier's output (the model must have one); "features": the pooled
   * feature [N, featureDim] (a backbone); "auto" (default): logits when there is a head.
   */
  output?: OnnxOutput;
  /** Free key/value pairs recorded in the file's metadata_props. */
  metadata?: Record<string, string>;
  /**
   * [height, width] of the input. Required for a PSPNet (ONNX has no adaptive pooling, so its
   * pyramid is written for this size); classifiers and backbones take any size and ignore it.
   */
  inputSize?: [number, number];
}

/** What an ONNX export wrote. */
export interface OnnxExportResult {
  output: "logits" | "features";
  /** Name and symbolic shape of the graph's input and output. */
  inputName: string;
  outputName: string;
  opset: number;
  nodes: number;
  initializers: number;
  bytes: number;
}

function packageVersion(): string {
  const url = new URL("../../../../package.json", import.meta.url);
  try {
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Writes `model` (eval-mode semantics: BN running statistics, no dropout) as ONNX. */
export function exportOnnx(
  model: Module,
  path: string,
  opts: OnnxExportOptions = {},
): OnnxExportResult {
  if (model instanceof PSPNet) return exportPspnet(model, path, opts);
  const entry = ONNX_GRAPHS.find((g) => g.matches(model));
  if (model instanceof FasterRcnn) throw new Error(`cannot export ${DETECTOR_MISSING}`);
  if (!entry) {
    throw new Error(
      `cannot export a ${model.constructor.name} to ONNX yet: the exporter has graphs for ` +
        `${[...ONNX_GRAPHS.map((g) => g.name), "PSPNet"].join(", ")} only`,
    );
  }
  const e = new OnnxEmitter(model, entry.name);
  const map = entry.features(e, model, "input");
  const pooled = e.poolFlatten(map, "features");
  const want = opts.output ?? "auto";
  let out: "logits" | "features" = "features";
  let outName = pooled;
  if (want !== "features") {
    const logits = entry.classifier(e, model, pooled);
    if (logits === null && want === "logits") {
      throw new Error("the model has no classifier: export its pooled features instead");
    }
    if (logits !== null) {
      out = "logits";
      outName = logits;
    }
  }
  const graph = e.graph.build(
    [{ name: "input", dims: ["batch", 3, "height", "width"] }],
    [{ name: outName, dims: ["batch", out === "logits" ? "classes" : "features"] }],
  );
  return write(path, graph, `${entry.name} (${out})`, out, opts.metadata);
}

function write(
  path: string,
  graph: OnnxGraph,
  what: string,
  out: OnnxExportResult["output"],
  metadata: Record<string, string> = {},
): OnnxExportResult {
  const bytes = writeOnnx(path, graph, {
    producerVersion: packageVersion(),
    docString: `${what} exported by kdep`,
    metadata: { output: out, ...metadata },
  });
  return {
    output: out,
    inputName: graph.inputs[0].name,
    outputName: graph.outputs[0].name,
    opset: ONNX_OPSET,
    nodes: graph.nodes.length,
    initializers: graph.initializers.length,
    bytes,
  };
}

/** A PSPNet's per-pixel logits [batch, classes, H, W] for inputs of `opts.inputSize`. */
function exportPspnet(model: PSPNet, path: string, opts: OnnxExportOptions): OnnxExportResult {
  const size = checkInputSize(opts.inputSize);
  if (opts.output === "features")
    throw new Error("a PSPNet exports its segmentation logits only (output: logits or auto)");
  const e = new OnnxEmitter(model, "PSPNet");
  const logits = pspnetGraph(e, model, "input", size);
  const graph = e.graph.build(
    [{ name: "input", dims: ["batch", 3, ...size] }],
    [{ name: logits, dims: ["batch", model.numClasses, ...size] }],
  );
  const metadata = { input_size: `${size[0]}x${size[1]}`, ...opts.metadata };
  return write(path, graph, `PSPNet-${model.backboneName} (logits)`, "logits", metadata);
}

function checkInputSize(s: [number, number] | undefined): [number, number] {
  if (s === undefined) {
    throw new Error(
      "a PSPNet needs a fixed input size to export (ONNX has no adaptive pooling): " +
        "give inputSize [height, width] (kdep export --input-size HxW)",
    );
  }
  if (s.length !== 2 || !s.every((v) => Number.isInteger(v) && v > 0))
    throw new Error(
      `inputSize: expected [height, width] positive integers, got ${JSON.stringify(s)}`,
    );
  return s;
}

/** Options of {@link exportCheckpointOnnx} (`kdep export --to onnx`). */
export interface OnnxCheckpointExportOptions extends OnnxExportOptions {
  input: string;
  /** The .onnx file to write (atomically). */
  out: string;
  /**
   * Architecture the checkpoint must hold (for a PSPNet: its backbone, e.g. `resnet50` or
   * `pspnet_resnet50`); inferred from its keys when absent.
   */
  arch?: string;
}

// Keys that mark networks kdep reads but cannot export yet, with what the export lacks.
const NOT_YET: [RegExp, string][] = [
  [/^(backbone|roi_heads|proposal_generator)\./, DETECTOR_MISSING],
];

/**
 * Reads any checkpoint kdep understands and writes it as ONNX: a ResNet or MobileNetV2
 * classifier or backbone, or a PSPNet from `kdep transfer seg` (needs `inputSize`).
 */
export function exportCheckpointOnnx(
  opts: OnnxCheckpointExportOptions,
): OnnxExportResult & { arch: string; unwrapped: string[] } {
  const { stateDict, report } = readSource(opts.input);
  if (isPspnetState(stateDict)) {
    checkInputSize(opts.inputSize); // before the model is built
    const { model, backbone } = pspnetFromCheckpoint(stateDict, opts.input, opts.arch);
    try {
      model.eval();
      const arch = `pspnet_${backbone}`;
      const r = exportOnnx(model, opts.out, {
        output: opts.output,
        inputSize: opts.inputSize,
        metadata: { arch, source: opts.input, ...opts.metadata },
      });
      return { ...r, arch, unwrapped: report };
    } finally {
      model.dispose();
    }
  }
  for (const [re, what] of NOT_YET) {
    if ([...stateDict.keys()].some((k) => re.test(k))) {
      throw new Error(
        `${opts.input} holds ${what}; kdep exports ResNet and MobileNetV2 classifiers and ` +
          "backbones, and PSPNet segmenters",
      );
    }
  }
  if (opts.arch !== undefined) archFamily(opts.arch);
  const arch = opts.arch ?? inferArch(stateDict, opts.input);
  checkArch(stateDict, arch, opts.input);
  const family = archFamily(arch);
  const head = stateDict.get(family === "resnet" ? "fc.weight" : "classifier.1.weight");
  const mopts: ModelOptions = { numClasses: head ? head.shape[0] : 0 };
  const conv1 = stateDict.get("conv1.weight");
  if (family === "resnet" && conv1) mopts.width = conv1.shape[0];
  const model = createModel(arch, mopts);
  try {
    const tensors = new Map([...stateDict].map(([k, v]) => [k, fromRaw(v)]));
    model.loadStateDict(tensors, { strict: false });
    for (const t of tensors.values()) t.dispose();
    model.eval();
    const r = exportOnnx(model, opts.out, {
      output: opts.output,
      metadata: { arch, source: opts.input, ...opts.metadata },
    });
    return { ...r, arch, unwrapped: report };
  } finally {
    model.dispose();
  }
}
