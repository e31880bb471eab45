// bench/kdep: one KDEP training step (ResNet-50 → ResNet-18, SVD + PTS, MSE, SGD) against
// the same step in bench/reference/kdep.py, and the SVD pass (streamed moments vs collecting
// X and torch.linalg.svd): time and peak memory. KDEP_BENCH_SVD_IMAGES sets the image count
// (default 20000 at 112 px: several minutes per side on 2 cores).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createModel } from "../../src/models/registry.js";
import { SGD } from "../../src/optim/index.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import * as T from "../../src/tensor/index.js";
import { printTable, runReference, timeit } from "../util.js";

const threads = T.getNumThreads();
const iters = Number(process.env.KDEP_BENCH_ITERS ?? 5);
const rows = [];
for (const [batch, size] of [
  [32, 224],
  [64, 112],
]) {
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
    unit: "rate" as const,
    ours: batch / sec,
    torch: torch.ips,
    target: 1.0,
  });
  d.dispose();
  teacher.dispose();
}
printTable(`bench/kdep training step (${threads} threads)`, rows);

const n = Number(process.env.KDEP_BENCH_SVD_IMAGES ?? 20000);
const child = fileURLToPath(new URL("./svdChild.js", import.meta.url));
const ours = JSON.parse(
  execFileSync(process.execPath, [child, String(n), "112"], { encoding: "utf8" }).trim(),
) as { seconds: number; peak_mib: number };
const ref = runReference("kdep.py", [String(threads), "svd", String(n), "112"]);
printTable(`SVD pass over ${n} images at 112 px`, [
  {
    name: "time (s): streamed moments vs X + torch.linalg.svd",
    unit: "s",
    ours: ours.seconds,
    torch: ref.seconds,
  },
  { name: "peak memory", unit: "MiB", ours: ours.peak_mib, torch: ref.peak_mib },
]);
