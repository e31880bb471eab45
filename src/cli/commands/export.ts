// `kdep export --to onnx MODEL OUT.onnx`: a checkpoint kdep reads → an ONNX model with a
// symbolic batch (opset 17); a PSPNet takes --input-size HxW. The export itself lives in
// pipelines/export.
import { z } from "zod";
import { exportCheckpointOnnx } from "../../pipelines/export/index.js";
import { defineCommand, UsageError } from "../options.js";

export const ExportSchema = z
  .object({
    model: z
      .string()
      .describe("kdep student.pth, torchvision state dict, robustness/KDEP checkpoint…"),
    file: z.string().describe(".onnx file to write (atomically)"),
    to: z.string().describe('export format: "onnx"').meta({ arg: "format" }),
    arch: z
      .string()
      .optional()
      .describe("architecture the input must hold; unset: inferred from the keys")
      .meta({ arg: "arch" }),
    output: z
      .enum(["auto", "logits", "features"])
      .default("auto")
      .describe(
        "graph output: logits (the classifier), features (the pooled feature: a backbone), " +
          "auto (logits when the checkpoint has a classifier)",
      ),
    inputSize: z
      .string()
      .regex(/^\d+(x\d+)?$/, "expected HxW (e.g. 512x512) or one side (512)")
      .optional()
      .describe(
        "input height x width; required for a PSPNet (its pyramid pooling is written for " +
          "one size), ignored by classifiers (any size)",
      )
      .meta({ arg: "HxW" }),
  })
  .strict();

export const exportCommand = defineCommand({
  name: "export",
  description:
    "export a ResNet or MobileNetV2 checkpoint, or a PSPNet (transfer seg), as an ONNX model (opset 17)",
  schema: ExportSchema,
  args: ["model", "file"],
  after: `
The graph takes input [batch, 3, height, width] (float32, normalised as for training);
batch, height and width are symbolic. A PSPNet's graph takes [batch, 3, H, W] at the
--input-size given (batch symbolic) and gives logits [batch, classes, H, W]: ONNX has no
adaptive pooling, so the pyramid is written for that size. BatchNormalization stays a
separate node (ONNX Runtime fuses it into the conv when it loads the model). See
docs/commands.md.`,
  run: (o) => {
    if (o.to !== "onnx")
      throw new UsageError(`--to: unknown export format "${o.to}"; expected onnx`);
    const r = exportCheckpointOnnx({
      input: o.model,
      out: o.file,
      arch: o.arch,
      output: o.output,
      inputSize: o.inputSize ? parseSize(o.inputSize) : undefined,
    });
    console.log(`read ${o.model} (${r.arch})`);
    for (const u of r.unwrapped) console.log(`  ${u}`);
    const shape = r.arch.startsWith("pspnet_") ? "[batch, classes, H, W]" : "[batch, …]";
    console.log(
      `wrote ${o.file} (ONNX opset ${r.opset}, ${r.output} ${shape}, ${r.nodes} nodes, ` +
        `${r.initializers} initializers, ${(r.bytes / 1e6).toFixed(1)} MB)`,
    );
  },
});

/** "512x384" → [512, 384]; "512" → [512, 512]. */
function parseSize(s: string): [number, number] {
  const [h, w = h] = s.split("x").map(Number);
  if (!(h > 0 && w > 0))
    throw new UsageError(`--input-size: expected HxW with sides > 0, got ${s}`);
  return [h, w];
}
