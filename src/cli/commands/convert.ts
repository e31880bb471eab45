// `kdep convert`: a kdep student (or any checkpoint we read) → the file another framework
// loads. The conversion lives in pipelines/convert; this file parses flags and prints what
// was unwrapped, renamed and dropped, so a surprising result can be traced.
import type { Command } from "commander";
import {
  type ConvertResult,
  convertCheckpoint,
  formatsHelp,
  parseFormat,
} from "../../pipelines/convert/index.js";

/** At most this many renames are listed; the rest are counted. */
const SHOW_RENAMES = 8;

/** "fc.weight, fc.bias and 20 num_batches_tracked buffers" rather than 22 names. */
function describeDropped(keys: string[]): string {
  const counters = keys.filter((k) => k.endsWith("num_batches_tracked"));
  const named = keys.filter((k) => !k.endsWith("num_batches_tracked"));
  const shown =
    named.length > SHOW_RENAMES
      ? [...named.slice(0, SHOW_RENAMES), `${named.length - SHOW_RENAMES} more keys`]
      : named;
  if (counters.length) shown.push(`${counters.length} num_batches_tracked buffers`);
  return shown.join(", ");
}

export function describeConversion(r: ConvertResult, input: string, output: string): string[] {
  const lines = [`read ${input} (${r.arch})`];
  for (const u of r.unwrapped) lines.push(`  ${u}`);
  if (r.renamed.length) {
    lines.push(`  renamed ${r.renamed.length} keys:`);
    for (const { from, to } of r.renamed.slice(0, SHOW_RENAMES)) lines.push(`    ${from} → ${to}`);
    if (r.renamed.length > SHOW_RENAMES) {
      lines.push(`    … and ${r.renamed.length - SHOW_RENAMES} more`);
    }
  }
  if (r.dropped.length) lines.push(`  left out ${describeDropped(r.dropped)}`);
  for (const n of r.notes) lines.push(`  ${n}`);
  lines.push(`wrote ${output} (${r.format}, ${r.tensors} tensors)`);
  return lines;
}

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description("convert a checkpoint into the format another framework loads")
    .argument("<input>", "kdep student.pth, torchvision state dict, robustness/KDEP checkpoint…")
    .argument("<output>", "file to write (atomically)")
    .requiredOption("--to <format>", "output format (see below)")
    .option("--arch <name>", "architecture the input must hold (default: inferred from keys)")
    .option("--drop-head", "leave out the classifier (always for semseg and detectron2)")
    .option("--epoch <n>", "epoch recorded in a robustness checkpoint", "0")
    .option("--width-mult <x>", "MobileNetV2 width multiplier (default: read from the shapes)")
    .addHelpText("after", `\nFormats:\n${formatsHelp()}`)
    .action(
      (
        input: string,
        output: string,
        opts: { to: string; arch?: string; dropHead?: boolean; epoch: string; widthMult?: string },
      ) => {
        try {
          parseFormat(opts.to);
        } catch (e) {
          program.error((e as Error).message);
        }
        const epoch = Number(opts.epoch);
        if (!Number.isSafeInteger(epoch) || epoch < 0)
          program.error(`--epoch expects a non-negative integer, got "${opts.epoch}"`);
        const widthMult = opts.widthMult === undefined ? undefined : Number(opts.widthMult);
        if (widthMult !== undefined && !(widthMult > 0))
          program.error(`--width-mult expects a positive number, got "${opts.widthMult}"`);
        const r = convertCheckpoint({
          input,
          output,
          to: opts.to,
          arch: opts.arch,
          dropHead: opts.dropHead,
          epoch,
          widthMult,
        });
        for (const line of describeConversion(r, input, output)) console.log(line);
      },
    );
}
