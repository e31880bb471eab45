// N KDEP steps (ResNet-50 → ResNet-18, SVD + PTS) in their own process, for time and peak
// memory: "teacher" runs the teacher each step; "cached" reads the targets from a target
// cache on disk (random image indices, as a shuffled epoch reads them).
//   node dist/bench/kdep/stepsChild.js teacher|cached BATCH SIZE STEPS [CACHE_DIR]
// KDEP_BENCH_AMP=bf16 runs the forward passes under bf16 autocast (native-bf16 CPUs).
import { createModel } from "../../src/models/registry.js";
import { SGD } from "../../src/optim/index.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import { TargetCache } from "../../src/pipelines/kdep/targetCacheReader.js";
import * as T from "../../src/tensor/index.js";
import { peakRssMiB } from "../util.js";

const [mode, batch, size, steps] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const cache = mode === "cached" ? new TargetCache(process.argv[6]) : null;
const student = createModel("resnet18", { numClasses: 0 });
const pts = { temperature: 0.1, power: 3 };
const amp = T.resolveAmp(process.env.KDEP_BENCH_AMP === "bf16" ? "bf16" : undefined, "cpu");
const d = cache
  ? new Distiller(null, student, new SvdAlignment(null, 512, 3, pts), { amp })
  : new Distiller(
      createModel("resnet50", { numClasses: 0 }),
      student,
      new SvdAlignment({ V: T.randn([2048, 2048]), mean: T.zeros([2048]) }, 512, 3, pts),
      { amp },
    );
d.train();
const opt = new SGD(d.parameters(), { lr: 0.3, momentum: 0.9, weightDecay: 5e-4 });
const x = T.randn([batch, 3, size, size]);
const y = T.zeros([batch], { dtype: "int64" });
const n = cache?.manifest.images.count ?? 0;
const step = (i: number) =>
  T.tidy(() => {
    const idx = Array.from({ length: batch }, (_, j) => (i * 7919 + j * 104729) % Math.max(1, n));
    const t = cache?.targets(0, idx, 512);
    d.step(x, y, opt, undefined, t);
  });
step(0); // warm-up, as the PyTorch side
const times: number[] = [];
const t0 = Date.now();
for (let i = 1; i <= steps; i++) {
  const a = performance.now();
  step(i);
  times.push(performance.now() - a);
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    seconds: (Date.now() - t0) / 1000,
    ips: batch / (times[times.length >> 1] / 1000),
    peak_mib: peakRssMiB(),
    // Minor page faults: what the allocator's caching saves, independent of machine load.
    minor_faults: process.resourceUsage().minorPageFault,
    cache: T.cpuCacheStats(),
  }),
);
