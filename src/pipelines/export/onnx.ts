// ONNX export of the zoo's classifiers and backbones: the graph of nodes comes from
// graphs.ts, the weights are the model's own tensors (initializers named by state-dict key),
// the batch, height and width are symbolic, the opset is 17.
import { readFileSync } from "node:fs";
import { writeOnnx } from "../../io/onnx/index.js";
import { ONNX_OPSET } from "../../io/onnx/schema.js";
import { fromRaw } from "../../io/tensors.js";
import { createModel, type ModelOptions } from "../../models/index.js";
import type { Module } from "../../nn/module.js";
import { archFamily, checkArch, inferArch } from "../convert/arch.js";
import { readSource } from "../convert/source.js";
import { OnnxEmitter } from "./emitter.js";
import { ONNX_GRAPHS } from "./graphs.js";

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
  const entry = ONNX_GRAPHS.find((g) => g.matches(model));
  if (!entry) {
    throw new Error(
      `cannot export a ${model.constructor.name} to ONNX yet: the exporter has graphs for ` +
        `${ONNX_GRAPHS.map((g) => g.name).join(" and ")} only`,
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
  const bytes = writeOnnx(path, graph, {
    producerVersion: packageVersion(),
    docString: `${entry.name} (${out}) exported by kdep`,
    metadata: { output: out, ...opts.metadata },
  });
  return {
    output: out,
    inputName: "input",
    outputName: outName,
    opset: ONNX_OPSET,
    nodes: graph.nodes.length,
    initializers: graph.initializers.length,
    bytes,
  };
}

/** Options of {@link exportCheckpointOnnx} (`kdep export --to onnx`). */
export interface OnnxCheckpointExportOptions extends OnnxExportOptions {
  input: string;
  /** The .onnx file to write (atomically). */
  out: string;
  /** Architecture the checkpoint must hold; inferred from its keys when absent. */
  arch?: string;
}

// Keys that mark networks kdep reads but cannot export yet, with what the export lacks.
const NOT_YET: [RegExp, string][] = [
  [
    /^(ppm|cls|aux)\./,
    "a PSPNet (segmentation): its ONNX graph (pyramid pooling: Resize, Concat) is not written yet",
  ],
  [
    /^(backbone|roi_heads|proposal_generator)\./,
    "a detector: ONNX export of detection models is not written yet",
  ],
];

/** Reads any checkpoint kdep understands and writes it as ONNX. */
export function exportCheckpointOnnx(
  opts: OnnxCheckpointExportOptions,
): OnnxExportResult & { arch: string; unwrapped: string[] } {
  const { stateDict, report } = readSource(opts.input);
  for (const [re, what] of NOT_YET) {
    if ([...stateDict.keys()].some((k) => re.test(k))) {
      throw new Error(
        `${opts.input} holds ${what}; kdep exports ResNet and MobileNetV2 classifiers and backbones`,
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
