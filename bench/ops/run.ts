// bench/ops: per-call overhead, a conv forward+backward and a small training step, against
// PyTorch on the same machine in the same run.  Run: node dist/bench/ops/run.js
import * as T from "../../src/tensor/index.js";
import { printTable, runOurs, runReference } from "../util.js";

const threads = T.getNumThreads();
// This VM's speed drifts between processes and over minutes (the same loop measured 1.3 µs
// in one process and 2.3 µs in the next, for PyTorch as for us): alternate the two sides
// over several rounds, each side in a fresh process every round, and keep each side's best.
const ROUNDS = Number(process.env.KDEP_BENCH_ROUNDS ?? 5);

const best = (rounds: Record<string, number>[], k: string) => Math.min(...rounds.map((r) => r[k]));
const mine: Record<string, number>[] = [];
const theirs: Record<string, number>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  mine.push(runOurs(new URL("./ours.js", import.meta.url)));
  theirs.push(runReference("ops.py", [String(threads)]));
}
const torch = {
  tiny: best(theirs, "tiny"),
  conv: best(theirs, "conv"),
  step: best(theirs, "step"),
};
const [tiny, tinyScoped, tinyLoose, conv, step] = [
  "tiny",
  "tinyScoped",
  "tinyLoose",
  "conv",
  "step",
].map((k) => best(mine, k));

printTable(`bench/ops (${threads} threads, best of ${ROUNDS} alternating rounds)`, [
  {
    name: "tiny op (add of 4 floats), per call, freed at once",
    unit: "s",
    ours: tiny,
    torch: torch.tiny,
    target: 0.95,
  },
  {
    name: "tiny op, 1000 results freed at scope end",
    unit: "s",
    ours: tinyScoped,
    torch: torch.tiny,
  },
  {
    name: "tiny op, outside any scope (GC-watched)",
    unit: "s",
    ours: tinyLoose,
    torch: torch.tiny,
  },
  {
    name: "conv2d fwd+bwd 8×64×56×56, 3×3",
    unit: "s",
    ours: conv,
    torch: torch.conv,
    target: 0.95,
  },
  {
    name: "6-layer convnet train step, 64×3×32×32",
    unit: "s",
    ours: step,
    torch: torch.step,
    target: 0.95,
  },
]);
