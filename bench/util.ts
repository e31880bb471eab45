// Shared benchmark plumbing: timing, the PyTorch reference run, and the ratio table.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const PYTHON = process.env.KDEP_PYTHON ?? "/usr/bin/python3";

/** A numeric setting from the environment (KDEP_BENCH_THREADS, …), or its default. */
export const envNumber = (key: string, fallback: number): number =>
  Number(process.env[key] ?? fallback);

/**
 * A long-lived PyTorch reference process speaking JSON lines: one request per line on stdin,
 * one answer per line on stdout, so the two sides can alternate rounds in one run.
 */
export class ReferenceProcess<A extends object> {
  #proc;
  #pending: ((l: string) => void)[] = [];
  constructor(script: string, args: string[]) {
    this.#proc = spawn(PYTHON, [script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
    createInterface({ input: this.#proc.stdout }).on("line", (l) => this.#pending.shift()?.(l));
  }
  async call(req: object): Promise<A> {
    const line = await new Promise<string>((resolve) => {
      this.#pending.push(resolve);
      this.#proc.stdin.write(`${JSON.stringify(req)}\n`);
    });
    return JSON.parse(line) as A;
  }
  close(): void {
    this.#proc.stdin.end();
  }
}

/** Median seconds per call over `iters` timed calls after `warmup` untimed ones. */
export function timeit(
  fn: () => void,
  iters: number,
  warmup = Math.max(1, Math.ceil(iters / 5)),
): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * This process's peak resident memory in MiB: VmHWM, the high-water mark of its own address
 * space. Not getrusage's maxRSS: Linux carries that across exec, so a child started by a
 * parent holding 2 GB reports 2 GB whatever it used (bench/kdep's first figures did).
 */
export function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs bench/reference/<name>.py with the given args; it prints one JSON object. */
export function runReference(name: string, args: string[] = []): Record<string, number> {
  const script = fileURLToPath(new URL(`../../bench/reference/${name}`, import.meta.url));
  const out = execFileSync(PYTHON, [script, ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  const last = out.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as Record<string, number>;
}

/** Runs one of our benchmark scripts in a fresh node process; it prints one JSON object. */
export function runOurs(script: URL): Record<string, number> {
  const out = execFileSync(process.execPath, [fileURLToPath(script)], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  const last = out.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as Record<string, number>;
}

export interface Row {
  name: string;
  /** "s" rows compare seconds (lower is better), "rate" rows items/s, "MiB" memory (lower). */
  unit: "s" | "rate" | "MiB";
  ours: number;
  torch: number;
  target?: number;
}

function fmt(v: number, unit: Row["unit"]): string {
  if (unit === "MiB") return `${v.toFixed(0)} MiB`;
  if (unit === "rate") return `${v.toFixed(1)}/s`;
  if (v < 1e-3) return `${(v * 1e6).toFixed(2)} µs`;
  return v < 1 ? `${(v * 1e3).toFixed(2)} ms` : `${v.toFixed(2)} s`;
}

/** Prints a Markdown table; ratio > 1 means kdep is faster. */
export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log("| benchmark | kdep | PyTorch | ratio (> 1: kdep better) | target |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    const ratio = r.unit === "rate" ? r.ours / r.torch : r.torch / r.ours;
    const target = r.target === undefined ? "" : `≥ ${r.target}${ratio >= r.target ? " ✓" : " ✗"}`;
    console.log(
      `| ${r.name} | ${fmt(r.ours, r.unit)} | ${fmt(r.torch, r.unit)} | ${ratio.toFixed(3)} | ${target} |`,
    );
  }
}
