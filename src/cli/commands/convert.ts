// `kdep convert`: a kdep student (or any checkpoint we read) → the file another framework
// loads. The conversion lives in pipelines/convert; this file parses flags and prints what
// was unwrapped, renamed and dropped, so a surprising result can be traced.
import type { Command } from "commander";
import { z } from "zod";
import {
  type ConvertResult,
  convertCheckpoint,
  formatsHelp,
  parseFormat,
} from "../../pipelines/convert/index.js";
import { defineCommand, registerCommand, UsageError } from "../options.js";

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

export const ConvertSchema = z
  .object({
    input: z
      .string()
      .describe("kdep student.pth, torchvision state dict, robustness/KDEP checkpoint…"),
    output: z.string().describe("file to write (atomically)"),
    to: z.string().describe("output format (see below)").meta({ arg: "format" }),
    arch: z
      .string()
      .optional()
      .describe("architecture the input must hold; unset: inferred from the keys")
      .meta({ arg: "arch" }),
    dropHead: z
      .boolean()
      .default(false)
      .describe("leave out the classifier (always for semseg and detectron2)"),
    epoch: z.number().int().min(0).default(0).describe("epoch recorded in a robustness checkpoint"),
    widthMult: z
      .number()
      .positive()
      .optional()
      .describe("MobileNetV2 width multiplier; unset: read from the checkpoint's shapes")
      .meta({ arg: "x" }),
  })
  .strict();

export const convertCommand = defineCommand({
  name: "convert",
  description: "convert a checkpoint into the format another framework loads",
  schema: ConvertSchema,
  args: ["input", "output"],
  after: `\nFormats:\n${formatsHelp()}`,
  run: (o) => {
    try {
      parseFormat(o.to);
    } catch (e) {
      throw new UsageError(`--to: ${(e as Error).message}`);
    }
    const r = convertCheckpoint(o);
    for (const line of describeConversion(r, o.input, o.output)) console.log(line);
  },
});

/** Registers `kdep convert` on `program`. */
export const registerConvert = (program: Command): Command =>
  registerCommand(program, convertCommand);
