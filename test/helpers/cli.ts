// Runs the built `kdep` command line as a child process, for tests of what a user sees:
// exit codes, messages, files, signals.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type FaultTrigger, faultEnv } from "./faultHook.js";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  done: Promise<CliResult>;
}

const FAULT_HOOK = fileURLToPath(new URL("./faultHook.js", import.meta.url));

export interface CliOptions {
  /** Extra environment (on top of this process's). */
  env?: Record<string, string>;
  /** Signals the run sends itself at exact points (see faultHook.ts). */
  faults?: FaultTrigger[];
}

export function startCli(args: string[], opts: CliOptions = {}): CliRun {
  const pre = opts.faults ? ["--import", FAULT_HOOK] : [];
  const env = { ...process.env, ...opts.env, ...(opts.faults ? faultEnv(opts.faults) : {}) };
  const child = spawn(process.execPath, [...pre, CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { child, stderr: () => err, done };
}

export const runCli = (args: string[], opts: CliOptions = {}) => startCli(args, opts).done;

/** Polls `cond` every `ms` until it holds; rejects after `timeoutMs` or when `alive` fails. */
export function waitFor(
  cond: () => boolean,
  what: string,
  opts: { ms?: number; timeoutMs?: number; alive?: () => boolean } = {},
): Promise<void> {
  const { ms = 5, timeoutMs = 60_000, alive = () => true } = opts;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (cond()) {
        clearInterval(poll);
        resolve();
      } else if (!alive() || Date.now() - t0 > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`gave up waiting for ${what}`));
      }
    }, ms);
  });
}
