// bench/kdep: one KDEP training step (ResNet-50 → ResNet-18, SVD + PTS, MSE, SGD) against
// the same step in bench/reference/kdep.py, and the SVD pass (streamed moments vs collecting
// X and torch.linalg.svd): time and peak memory.
//
//   node dist/bench/kdep/run.js        full run: steps b32@224 and b64@112, SVD over 20000
//                                      images at 112 px (several minutes per side on 2 cores)
// Overrides: KDEP_BENCH_STEPS ("32@224,64@112": batch@size list), KDEP_BENCH_ITERS (5 timed
// steps), KDEP_BENCH_SVD_IMAGES (20000), KDEP_BENCH_SVD_SIZE (112). A smoke run:
//   KDEP_BENCH_STEPS=2@64 KDEP_BENCH_ITERS=1 KDEP_BENCH_SVD_IMAGES=128 KDEP_BENCH_SVD_SIZE=64 \
//     node dist/bench/kdep/run.js
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createModel } from "../../src/models/registry.js";
import { SGD } from "../../src/optim/index.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import * as T from "../../src/tensor/index.js";
import { printTable, type Row, runReference, timeit } from "../util.js";

/** "32@224,64@112" → [[32, 224], [64, 112]]. */
function parseSteps(spec: string): Array<[number, number]> {
  return spec.split(",").map((item) => {
    const [b, s] = item.split("@").map(Number);
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 1 || s < 32)
      throw new Error(`KDEP_BENCH_STEPS: expected batch@size (size ≥ 32), got "${item}"`);
    return [b, s];
  });
}

const threads = T.getNumThreads();
const iters = Number(process.env.KDEP_BENCH_ITERS ?? 5);
const rows: Row[] = [];
for (const [batch, size] of parseSteps(process.env.KDEP_BENCH_STEPS ?? "32@224,64@112")) {
  const teacher = createModel("resnet50", { numClasses: 0 });
  const student = createModel("resnet18", { numClasses: 0 });
  const V = T.randn([2048, 2048]);
  const d = new Distiller(
    teacher,
    student,
    new SvdAlignment({ V, mean: T.zeros([2048]) }, 512, 3, { temperature: 0.1, power: 3 }),
  );
  d.train();
  const opt = new SGD(d.parameters(), { lr: 0.3, momentum: 0.9, weightDecay: 5e-4 });
  const x = T.randn([batch, 3, size, size]);
  const y = T.zeros([batch], { dtype: "int64" });
  const sec = timeit(() => d.step(x, y, opt), iters, 1);
  const torch = runReference("kdep.py", [
    String(threads),
    "step",
    String(batch),
    String(size),
    String(iters),
  ]);
  rows.push({
    name: `KDEP step b${batch}@${size} (img/s)`,
    unit: "rate",
    ours: batch / sec,
    torch: torch.ips,
    target: 1.0,
  });
  d.dispose();
  teacher.dispose();
}
printTable(`bench/kdep training step (${threads} threads)`, rows);

const n = Number(process.env.KDEP_BENCH_SVD_IMAGES ?? 20000);
const svdSize = process.env.KDEP_BENCH_SVD_SIZE ?? "112";
const child = fileURLToPath(new URL("./svdChild.js", import.meta.url));
const ours = JSON.parse(
  execFileSync(process.execPath, [child, String(n), svdSize], { encoding: "utf8" }).trim(),
) as { seconds: number; peak_mib: number };
const ref = runReference("kdep.py", [String(threads), "svd", String(n), svdSize]);
printTable(`SVD pass over ${n} images at ${svdSize} px (ResNet-50, d = 2048)`, [
  {
    name: "time: streamed moments (kdep) vs X + torch.linalg.svd (PyTorch)",
    unit: "s",
    ours: ours.seconds,
    torch: ref.seconds,
  },
  { name: "peak memory (process RSS)", unit: "MiB", ours: ours.peak_mib, torch: ref.peak_mib },
]);
