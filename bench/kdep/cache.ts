// bench/kdep/cache: the teacher-target cache against the PyTorch reference KDEP step with
// its teacher. Rows per size: a cached step (student forward/backward + targets read from a
// cache on disk) vs PyTorch's step with the teacher; building the cache (per image) vs
// PyTorch's teacher forward; cache size per image. Peak memory is bench/kdep/memory.
//   node dist/bench/kdep/cache.js         b16@224 and b32@112 (about 4 TFLOP in all: a few
//                                         minutes on 2 cores)
// Overrides: KDEP_BENCH_STEPS ("16@224,32@112"), KDEP_BENCH_ITERS (5 timed steps per run),
// KDEP_BENCH_CACHE_IMAGES (256 images per cache: start-up amortised). Inputs are random tensors on both sides
// (no data loading), so the rows compare the training step alone. The step rows alternate
// kdep, PyTorch, kdep, PyTorch and keep each side's better run, so a burst of load from
// elsewhere is less likely to decide the ratio.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as T from "../../src/tensor/index.js";
import { envNumber, printTable, type Row, runReference } from "../util.js";

const threads = T.getNumThreads();
const iters = envNumber("KDEP_BENCH_ITERS", 5);
const images = envNumber("KDEP_BENCH_CACHE_IMAGES", 256);
const specs = (process.env.KDEP_BENCH_STEPS ?? "16@224,32@112")
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
    const fwd = runReference("kdep.py", [String(threads), "forward", "32", String(size), "2"]);
    rows.push({
      name: `cache build at ${size} px (s/image) vs PyTorch teacher forward`,
      unit: "s",
      ours: built.ms_per_image / 1000,
      torch: 1 / fwd.ips,
    });
    rows.push({
      name: `cache size per 100k images per epoch (k = 512, fp16; "PyTorch": fp32 targets)`,
      unit: "MiB",
      ours: (built.bytes_per_image * 1e5) / 2 ** 20,
      torch: (512 * 4 * 1e5) / 2 ** 20,
    });
    let [ours, ref] = [0, 0];
    for (let round = 0; round < 2; round++) {
      const args = [String(batch), String(size), String(iters)];
      ours = Math.max(ours, child("./stepsChild.js", ["cached", ...args, dir]).ips);
      ref = Math.max(ref, runReference("kdep.py", [String(threads), "step", ...args]).ips);
    }
    rows.push({
      name: `KDEP step b${batch}@${size}: cached vs PyTorch with teacher (img/s)`,
      unit: "rate",
      ours,
      torch: ref,
      target: 1.7,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
printTable(`bench/kdep/cache: teacher-target cache (${threads} threads)`, rows);
