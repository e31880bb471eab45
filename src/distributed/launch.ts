// `kdep <command> … --nproc-per-node N`: starts N local ranks of the same command with
// torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and waits
// for them. Ctrl-C is forwarded once to every rank (they run in their own process group, so
// the terminal's signal does not reach them twice); when a rank fails, the others get a
// grace period to notice and report it, then are killed.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

const GRACE_MS = 60_000;

/** The value of `--nproc-per-node` in argv and argv without it, or null when absent. */
export function takeNprocFlag(argv: string[]): { n: number; rest: string[] } | null {
  const i = argv.findIndex((a) => a === "--nproc-per-node" || a.startsWith("--nproc-per-node="));
  if (i < 0) return null;
  const inline = argv[i].includes("=");
  const raw = inline ? argv[i].split("=")[1] : argv[i + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--nproc-per-node ${raw ?? ""}: expected a positive integer`);
  const rest = [...argv.slice(0, i), ...argv.slice(i + (inline ? 1 : 2))];
  return { n, rest };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `script args` as `n` local ranks; resolves with the exit code for the launcher. */
export async function launchLocal(script: string, args: string[], n: number): Promise<number> {
  if (process.env.RANK !== undefined || process.env.WORLD_SIZE !== undefined)
    throw new Error(
      "--nproc-per-node starts its own ranks: do not combine it with RANK/WORLD_SIZE (under torchrun, leave --nproc-per-node to torchrun)",
    );
  const port = process.env.MASTER_PORT ? Number(process.env.MASTER_PORT) : await freePort();
  const children: ChildProcess[] = [];
  let failure: { rank: number; code: number } | null = null;
  let graceTimer: NodeJS.Timeout | undefined;
  const forward = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, sig);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const exits = Array.from({ length: n }, (_, rank) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: "inherit",
      detached: true,
      env: {
        ...process.env,
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(n),
        LOCAL_WORLD_SIZE: String(n),
        MASTER_ADDR: process.env.MASTER_ADDR ?? "127.0.0.1",
        MASTER_PORT: String(port),
        KDEP_LAUNCHER_PID: String(process.pid),
      },
    });
    children.push(child);
    return new Promise<void>((resolve) => {
      child.on("exit", (code, signal) => {
        if ((code !== 0 || signal) && failure === null) {
          failure = { rank, code: code ?? 1 };
          process.stderr.write(`kdep: rank ${rank} exited with ${signal ?? `code ${code}`}\n`);
          graceTimer = setTimeout(() => {
            for (const c of children)
              if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
          }, GRACE_MS);
        }
        resolve();
      });
    });
  });
  await Promise.all(exits);
  clearTimeout(graceTimer);
  process.off("SIGINT", forward);
  process.off("SIGTERM", forward);
  return failure === null ? 0 : (failure as { code: number }).code;
}

/**
 * In a rank started by launchLocal: if the launcher itself dies (e.g. SIGKILL), stop as on
 * SIGTERM, with a checkpoint, instead of training on as an orphan.
 */
export function watchLauncher(env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env.KDEP_LAUNCHER_PID);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(timer);
      process.kill(process.pid, "SIGTERM");
    }
  }, 1000);
  timer.unref();
}
