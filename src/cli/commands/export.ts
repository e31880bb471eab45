// `kdep export --to onnx MODEL OUT.onnx`: a checkpoint kdep reads → an ONNX model with a
// dynamic batch (opset 17). The export itself lives in pipelines/export.
import type { Command } from "commander";
import { exportCheckpointOnnx, type OnnxOutput } from "../../pipelines/export/index.js";

const OUTPUTS: readonly OnnxOutput[] = ["auto", "logits", "features"];

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("export a ResNet or MobileNetV2 checkpoint as an ONNX model (opset 17)")
    .argument("<model>", "kdep student.pth, torchvision state dict, robustness/KDEP checkpoint…")
    .argument("<output>", ".onnx file to write (atomically)")
    .requiredOption("--to <format>", 'output format: "onnx"')
    .option("--arch <name>", "architecture the input must hold (default: inferred from keys)")
    .option(
      "--output <kind>",
      "graph output: logits (the classifier), features (pooled feature, a backbone) or auto " +
        "(logits when the checkpoint has a classifier)",
      "auto",
    )
    .addHelpText(
      "after",
      "\nThe graph takes input [batch, 3, height, width] (float32, normalised as for training);" +
        "\nbatch, height and width are symbolic. BatchNormalization stays a separate node" +
        "\n(ONNX Runtime fuses it into the conv when it loads the model). See docs/commands.md.",
    )
    .action(
      (model: string, output: string, opts: { to: string; arch?: string; output: string }) => {
        if (opts.to !== "onnx")
          program.error(`--to: unknown export format "${opts.to}"; expected onnx`);
        if (!OUTPUTS.includes(opts.output as OnnxOutput)) {
          program.error(`--output expects one of ${OUTPUTS.join(", ")}, got "${opts.output}"`);
        }
        const r = exportCheckpointOnnx({
          input: model,
          out: output,
          arch: opts.arch,
          output: opts.output as OnnxOutput,
        });
        console.log(`read ${model} (${r.arch})`);
        for (const u of r.unwrapped) console.log(`  ${u}`);
        console.log(
          `wrote ${output} (ONNX opset ${r.opset}, ${r.output} [batch, …], ${r.nodes} nodes, ` +
            `${r.initializers} initializers, ${(r.bytes / 1e6).toFixed(1)} MB)`,
        );
      },
    );
}
