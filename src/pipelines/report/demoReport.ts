// Placeholder until the report branch lands.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DemoReport } from "./types.js";
export async function writeDemoReport(dir: string, r: DemoReport): Promise<{ md: string; html: string; files: string[] }> {
  const md = r.methods.map((m) => `| ${m.label} | ${m.data} | ${m.pretrainSeconds.toFixed(0)} s | ${m.downstream.mean.toFixed(2)} ± ${m.downstream.spread.toFixed(2)} |`).join("\n");
  writeFileSync(join(dir, "report.md"), md);
  return { md, html: "", files: [] };
}
