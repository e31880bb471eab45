// `kdep demo`: the README's first command. Runs KDEP and its baselines on Fashion-MNIST and
// writes a report folder (report.md, report.html, charts, every run's metrics).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { runDemo } from "../../pipelines/demo/demo.js";
import { writeDemoReport } from "../../pipelines/report/demoReport.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "reproduce KDEP's claim in miniature on Fashion-MNIST (offline) and write a report",
    )
    .option("--quick", "the same path on less data and fewer epochs (about 2 minutes)")
    .option("--out <dir>", "report folder", "kdep-demo")
    .option("--seeds <n>", "transfer runs per method", (v) => Number.parseInt(v, 10))
    .option(
      "--fmnist <dir>",
      "Fashion-MNIST idx files (default: $KDEP_FMNIST, else /usr/share/datasets/fashion-mnist)",
    )
    .option("--progress <mode>", "auto | bar | lines | quiet", "auto")
    .action(
      async (opts: {
        quick?: boolean;
        out: string;
        seeds?: number;
        fmnist?: string;
        progress: "auto" | "bar" | "lines" | "quiet";
      }) => {
        const out = resolve(opts.out);
        mkdirSync(out, { recursive: true });
        const report = await runDemo({
          quick: opts.quick,
          out,
          fmnistDir: opts.fmnist,
          seeds: opts.seeds ? Array.from({ length: opts.seeds }, (_, i) => i) : undefined,
          progress: opts.progress,
        });
        writeFileSync(join(out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
        const written = await writeDemoReport(out, report);
        console.log(readFileSync(written.md, "utf8"));
        console.log(
          `\nReport: ${join(out, "report.html")} (and report.md); total ${report.totalSeconds.toFixed(0)} s`,
        );
      },
    );
}
