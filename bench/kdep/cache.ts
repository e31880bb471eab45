// bench/kdep/cache: the teacher-target cache against the PyTorch reference KDEP step with
// its teacher. Rows: a cached step (student + targets read from disk) vs PyTorch's step
// with the teacher; building the cache (per image) vs PyTorch's teacher forward; cache size
// per image; peak memory of N distillation steps (with the teacher, both sides).
//   node dist/bench/kdep/cache.js
// Overrides: KDEP_BENCH_STEPS ("32@224,64@112"), KDEP_BENCH_ITERS (5),
// KDEP_BENCH_CACHE_IMAGES (512), KDEP_BENCH_MEM_STEPS (300). Inputs are random tensors on
// both sides (no data loading), so the rows compare the training step alone.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as T from "../../src/tensor/index.js";
import { printTable, type Row, runReference } from "../util.js";

const threads = T.getNumThreads();
const iters = Number(process.env.KDEP_BENCH_ITERS ?? 5);
const images = Number(process.env.KDEP_BENCH_CACHE_IMAGES ?? 512);
const memSteps = Number(process.env.KDEP_BENCH_MEM_STEPS ?? 300);
const specs = (process.env.KDEP_BENCH_STEPS ?? "32@224,64@112")
  .split(",")
  .map((s) => s.split("@").map(Number) as [number, number]);
const child = (name: string, args: string[]) =>
  JSON.parse(
    execFileSync(process.execPath, [fileURLToPath(new URL(name, import.meta.url)), ...args], {
      encoding: "utf8",
    }).trim(),
  ) as Record<string, number>;

const rows: Row[] = [];
for (const [batch, size] of specs) {
  const dir = mkdtempSync(join(tmpdir(), "kdep-bench-cache-"));
  try {
    const built = child("./cacheChild.js", [dir, String(images), String(size)]);
    const fwd = runReference("kdep.py", [String(threads), "forward", "64", String(size), "2"]);
    rows.push({
      name: `cache build at ${size} px (ms/image) vs PyTorch teacher forward`,
      unit: "s",
      ours: built.ms_per_image / 1000,
      torch: 1 / fwd.ips,
    });
    rows.push({
      name: `cache size per image per epoch (bytes, k = 512, fp16)`,
      unit: "rate",
      ours: built.bytes_per_image,
      torch: 512 * 4,
    });
    const cached = child("./stepsChild.js", [
      "cached",
      String(batch),
      String(size),
      String(iters),
      dir,
    ]);
    const ref = runReference("kdep.py", [
      String(threads),
      "step",
      String(batch),
      String(size),
      String(iters),
    ]);
    rows.push({
      name: `KDEP step b${batch}@${size} cached vs PyTorch with teacher (img/s)`,
      unit: "rate",
      ours: cached.ips,
      torch: ref.ips,
      target: 1.7,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const [mb, ms] = specs[specs.length - 1];
const ours = child("./stepsChild.js", ["teacher", String(mb), String(ms), String(memSteps)]);
const ref = runReference("kdep.py", [
  String(threads),
  "step",
  String(mb),
  String(ms),
  String(memSteps),
]);
rows.push({
  name: `peak memory, ${memSteps} distillation steps b${mb}@${ms} (process RSS)`,
  unit: "MiB",
  ours: ours.peak_mib,
  torch: ref.peak_mib,
});
rows.push({
  name: `time, ${memSteps} distillation steps b${mb}@${ms}`,
  unit: "s",
  ours: ours.seconds,
  torch: ref.seconds,
});
printTable(
  `bench/kdep/cache: teacher-target cache (${threads} threads; size row: fp32 target bytes as "PyTorch")`,
  rows,
);
