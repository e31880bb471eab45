// Starts the ranks of a small data-parallel job (fixtures/ddpChild.ts) as child processes
// on 127.0.0.1, one thread each, and compares what they leave behind.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/distributed/launch.js";
import { loadStateDictFile } from "../../src/io/tensors.js";

const CHILD = fileURLToPath(new URL("./fixtures/ddpChild.js", import.meta.url));

export interface ChildArgs {
  out: string;
  epochs: number;
  batchSize: number;
  syncBn: boolean;
  perClass: number;
  checkpointEvery?: number;
  lr?: number;
  noise?: boolean;
}

export interface RankRun {
  child: ChildProcess;
  stderr(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }>;
}

export function startRank(
  args: ChildArgs | string,
  env: Record<string, string>,
  script = CHILD,
): RankRun {
  const t0 = Date.now();
  const arg = typeof args === "string" ? args : JSON.stringify(args);
  const child = spawn(process.execPath, [script, arg], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KDEP_NUM_THREADS: "1", ...env },
  });
  let err = "";
  child.stdout?.resume();
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const done = new Promise<Awaited<RankRun["done"]>>((resolve) => {
    child.on("close", (code, signal) =>
      resolve({ code, signal, stderr: err, ms: Date.now() - t0 }),
    );
  });
  return { child, stderr: () => err, done };
}

/** `world` ranks with torchrun's variables; per-rank argument overrides allowed. */
export async function startJob(
  args: ChildArgs,
  world: number,
  perRank: (rank: number) => Partial<ChildArgs> = () => ({}),
  extraEnv: Record<string, string> = {},
): Promise<RankRun[]> {
  const port = await freePort();
  return Array.from({ length: world }, (_, rank) =>
    startRank(
      { ...args, ...perRank(rank) },
      {
        RANK: String(rank),
        WORLD_SIZE: String(world),
        LOCAL_RANK: String(rank),
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(port),
        ...extraEnv,
      },
    ),
  );
}

export async function runJob(args: ChildArgs, world: number) {
  const ranks = await startJob(args, world);
  return Promise.all(ranks.map((r) => r.done));
}

/** `world` ranks of another fixture script (its one argument given as is), to the end. */
export async function runScriptJob(script: string, arg: string, world: number) {
  const port = await freePort();
  const ranks = Array.from({ length: world }, (_, rank) =>
    startRank(
      arg,
      {
        RANK: String(rank),
        WORLD_SIZE: String(world),
        LOCAL_RANK: String(rank),
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(port),
      },
      script,
    ),
  );
  return Promise.all(ranks.map((r) => r.done));
}

/**
 * Per tensor of two weight files (`file` in run folders a and b): ‖a − b‖ / ‖b‖ (tensors that
 * are all zeros in b compare absolutely), and the worst of them; BN's batch counts exactly.
 */
export function studentDistance(
  a: string,
  b: string,
  file = "student.pth",
): { worst: number; key: string } {
  const x = loadStateDictFile(join(a, file)).stateDict;
  const y = loadStateDictFile(join(b, file)).stateDict;
  let worst = 0;
  let key = "";
  for (const [k, t] of y) {
    const u = x.get(k);
    if (!u) return { worst: Number.POSITIVE_INFINITY, key: `${k} (missing)` };
    if (k.endsWith("num_batches_tracked")) {
      if (u.item() !== t.item()) return { worst: Number.POSITIVE_INFINITY, key: k };
      continue;
    }
    const p = u.toArray();
    const q = t.toArray();
    let num = 0;
    let den = 0;
    for (let i = 0; i < q.length; i++) {
      num += (p[i] - q[i]) ** 2;
      den += q[i] ** 2;
    }
    const rel = Math.sqrt(num / (den > 0 ? den : 1));
    if (!(rel <= worst)) {
      worst = rel;
      key = k;
    }
  }
  return { worst, key };
}
