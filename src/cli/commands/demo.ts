// `kdep demo`: the README's first command. Runs KDEP and its baselines on Fashion-MNIST and
// writes a report folder (report.md, report.html, charts, every run's metrics).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { runDemo } from "../../pipelines/demo/demo.js";
import { writeDemoReport } from "../../report/demoReport.js";
import { defineCommand } from "../options.js";

export const DemoSchema = z
  .object({
    quick: z
      .boolean()
      .default(false)
      .describe("the same path on less data and fewer epochs (about 2 minutes)"),
    out: z.string().default("kdep-demo").describe("report folder").meta({ arg: "dir" }),
    seeds: z.number().int().positive().optional().describe("transfer runs per method; unset: 2"),
    fmnist: z
      .string()
      .default("/usr/share/datasets/fashion-mnist")
      .describe("Fashion-MNIST idx files")
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
    const out = resolve(o.out);
    mkdirSync(out, { recursive: true });
    const report = await runDemo({
      quick: o.quick,
      out,
      fmnistDir: o.fmnist,
      seeds: o.seeds ? Array.from({ length: o.seeds }, (_, i) => i) : undefined,
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
