// `kdep demo`: the README's first command. Runs KDEP and its baselines on Fashion-MNIST and
// writes a report folder (report.md, report.html, charts, every run's metrics).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { runDemo } from "../../pipelines/demo/demo.js";
import { parseClassList, validateSplit } from "../../pipelines/demo/split.js";
import { writeDemoReport } from "../../report/demoReport.js";
import { defineCommand } from "../options.js";

export const DemoSchema = z
  .object({
    quick: z
      .boolean()
      .default(false)
      .describe("the same path on less data and fewer epochs (under 2 minutes on 2 cores)"),
    out: z.string().default("kdep-demo").describe("report folder").meta({ arg: "dir" }),
    seeds: z
      .number()
      .int()
      .min(2)
      .optional()
      .describe("transfer seeds per method (the paired test needs ≥ 2); unset: 5"),
    upstream: z
      .string()
      .default("0,1,2,3,4,6")
      .describe("pre-training classes, Fashion-MNIST indices 0–9")
      .meta({ arg: "list" }),
    downstream: z
      .string()
      .default("5,7,8,9")
      .describe("held-out transfer classes, disjoint from --upstream")
      .meta({ arg: "list" }),
    fmnist: z
      .string()
      .optional()
      .describe(
        "Fashion-MNIST idx files; unset: $KDEP_FMNIST, else /usr/share/datasets/fashion-mnist",
      )
      .meta({ arg: "dir" }),
    progress: z
      .enum(["auto", "bar", "lines", "quiet"])
      .default("auto")
      .describe("progress display"),
  })
  .strict();

export const demoCommand = defineCommand({
  name: "demo",
  description: "reproduce KDEP's claim in miniature on Fashion-MNIST (offline) and write a report",
  schema: DemoSchema,
  config: true,
  run: async (o) => {
    // Checked before anything is written.
    const split = validateSplit({
      upstream: parseClassList(o.upstream, "--upstream"),
      downstream: parseClassList(o.downstream, "--downstream"),
    });
    const out = resolve(o.out);
    mkdirSync(out, { recursive: true });
    const report = await runDemo({
      quick: o.quick,
      out,
      fmnistDir: o.fmnist,
      seeds: o.seeds ? Array.from({ length: o.seeds }, (_, i) => i) : undefined,
      split,
      progress: o.progress,
    });
    writeFileSync(join(out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
    const written = await writeDemoReport(out, report);
    console.log(readFileSync(written.md, "utf8"));
    console.log(
      `\nReport: ${join(out, "report.html")} (and report.md); total ${report.totalSeconds.toFixed(0)} s`,
    );
  },
});
