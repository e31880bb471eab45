// bench/ddp: images/s of a data-parallel KDEP step (ResNet-50 teacher → ResNet-18 student)
// as 1 process × 2 threads and 2 processes × 1 thread on this machine, each against the
// same in PyTorch (torch.distributed.run + DistributedDataParallel over Gloo) in the same
// run; and the gradient all-reduce's time per step against the bytes it moves.
//
//   node dist/bench/ddp/run.js                  global batch 32 at 112 px, 5 timed steps
// Overrides: KDEP_BENCH_DDP ("32@112": globalBatch@size), KDEP_BENCH_ITERS (5). A smoke run:
//   KDEP_BENCH_DDP=4@64 KDEP_BENCH_ITERS=1 node dist/bench/ddp/run.js
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/distributed/launch.js";
import { PYTHON, printTable, type Row } from "../util.js";

const [batch, size] = (process.env.KDEP_BENCH_DDP ?? "32@112").split("@").map(Number);
const iters = Number(process.env.KDEP_BENCH_ITERS ?? 5);
if (!(batch % 2 === 0 && size >= 32))
  throw new Error("KDEP_BENCH_DDP: expected an even globalBatch@size with size ≥ 32");
const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));
const REF = fileURLToPath(new URL("../../../bench/reference/ddp.py", import.meta.url));
// torchrun, patched for Debian 12's torch 1.13 on Python 3.11 (see the script).
const TORCHRUN = fileURLToPath(new URL("../../../scripts/torchrun.py", import.meta.url));

type Result = Record<string, number>;

/** Runs a command; resolves with the last JSON line of its stdout. */
function run(cmd: string, args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => {
      const line = out
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .pop();
      if (code !== 0 || !line)
        reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${err}`));
      else resolve(JSON.parse(line) as Result);
    });
  });
}

async function ours(procs: number, threads: number, overlap = true): Promise<Result> {
  const args = [CHILD, String(batch), String(size), String(iters)];
  const env = { KDEP_NUM_THREADS: String(threads), KDEP_DDP_OVERLAP: overlap ? "1" : "0" };
  if (procs === 1) return run(process.execPath, args, env);
  const port = String(await freePort());
  const ranks = Array.from({ length: procs }, (_, r) =>
    run(process.execPath, args, {
      ...env,
      RANK: String(r),
      WORLD_SIZE: String(procs),
      LOCAL_RANK: String(r),
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: port,
    }).catch((e: Error) => (r === 0 ? Promise.reject(e) : {})),
  );
  return (await Promise.all(ranks))[0];
}

async function torch(procs: number, threads: number, bytes: number): Promise<Result> {
  const args = [String(threads), String(batch), String(size), String(iters), String(bytes)];
  if (procs === 1) return run(PYTHON, [REF, ...args], {});
  const port = String(await freePort());
  return run(
    PYTHON,
    [TORCHRUN, "--nproc_per_node", String(procs), "--master_port", port, REF, ...args],
    { OMP_NUM_THREADS: String(threads) },
  );
}

const one = await ours(1, 2);
const oneTorch = await torch(1, 2, 0);
const two = await ours(2, 1);
const twoAfter = await ours(2, 1, false);
const twoTorch = await torch(2, 1, two.bytes);
const mb = two.bytes / 2 ** 20;
const rows: Row[] = [
  {
    name: `1 process × 2 threads, b${batch}@${size} (img/s)`,
    unit: "rate",
    ours: one.ips,
    torch: oneTorch.ips,
    target: 1.0,
  },
  {
    name: `2 processes × 1 thread, b${batch}@${size} (img/s)`,
    unit: "rate",
    ours: two.ips,
    torch: twoTorch.ips,
    target: 1.0,
  },
  {
    name: `2 × 1, reduced after backward (img/s)`,
    unit: "rate",
    ours: twoAfter.ips,
    torch: twoTorch.ips,
  },
  {
    name: `one all-reduce of ${mb.toFixed(1)} MiB, 2 ranks (s)`,
    unit: "s",
    ours: two.flatAllReduceMs / 1e3,
    torch: twoTorch.allReduceMs / 1e3,
  },
];
printTable("Data-parallel KDEP step (Gloo on 127.0.0.1)", rows);
const arMs = twoAfter.allReduceMs;
console.log(
  `\nGradient all-reduce per step (2 ranks): ${mb.toFixed(1)} MiB in ${Math.ceil(mb / 25)} bucket(s). ` +
    `Reduced after backward it takes ${arMs.toFixed(1)} ms (${(mb / 1024 / (arMs / 1e3)).toFixed(2)} GiB/s ` +
    `of gradient, ${((arMs / 1e3) * (twoAfter.ips / batch) * 100).toFixed(1)} % of the step; this ` +
    "includes waiting for the slower rank). The default reduces each bucket during backward, " +
    "as PyTorch's DDP does: compare the two 2 × 1 rows.",
);
