// PSPNet-R18 against PyTorch on the same machine, same threads, same run: one training step
// of the recipe (batch 4, crop 512, CE + 0.4 aux, two-group SGD) and the sliding-window +
// flip inference of one 1024×512 image (windows of 512, semseg's procedure). The sides are
// timed in alternation and the best round of each kept (this VM's speed drifts).
//
//   node dist/bench/seg/run.js [--crop 512] [--batch 4] [--width 1024] [--height 512]
//   (KDEP_BENCH_THREADS, _WARMUP, _ROUNDS override; a busy machine: --crop 256 --width 512 --height 256)
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PSPNet } from "../../src/models/pspnet.js";
import { slidingPredict } from "../../src/pipelines/transfer/segInfer.js";
import { segOptimizer, segTrainStep } from "../../src/pipelines/transfer/segStep.js";
import { manualSeed, randint, randn, setNumThreads, tidy } from "../../src/tensor/index.js";
import { envNumber, ReferenceProcess } from "../util.js";

const { values } = parseArgs({
  options: {
    crop: { type: "string", default: "512" },
    batch: { type: "string", default: "4" },
    width: { type: "string", default: "1024" },
    height: { type: "string", default: "512" },
  },
});
const THREADS = envNumber("KDEP_BENCH_THREADS", 2);
const WARMUP = envNumber("KDEP_BENCH_WARMUP", 1);
const ROUNDS = envNumber("KDEP_BENCH_ROUNDS", 2);
const SCRIPT = fileURLToPath(new URL("../../../bench/reference/seg.py", import.meta.url));
const crop = Number(values.crop);
const classes = 19;

interface Spec {
  kind: "train" | "infer";
  classes: number;
  crop: number;
  batch?: number;
  width?: number;
  height?: number;
}
const specs: [string, Spec][] = [
  [
    `train step b${values.batch}@${crop}`,
    { kind: "train", classes, crop, batch: Number(values.batch) },
  ],
  [
    `sliding+flip ${values.width}x${values.height}`,
    { kind: "infer", classes, crop, width: Number(values.width), height: Number(values.height) },
  ],
];

function ours(s: Spec): () => void {
  manualSeed(0);
  const m = new PSPNet({ backbone: "resnet18", numClasses: s.classes });
  if (s.kind === "train") {
    const x = randn([s.batch!, 3, s.crop, s.crop]);
    const y = randint(0, s.classes, [s.batch!, s.crop, s.crop]);
    const { optimizer } = segOptimizer(m, { lr: 0.01, maxIters: 1000 });
    m.train();
    return () => tidy(() => void segTrainStep(m, optimizer, x, y, 0.4));
  }
  const x = randn([1, 3, s.height!, s.width!]);
  const o = { crop: [s.crop, s.crop] as [number, number], baseSize: Math.max(s.height!, s.width!) };
  return () => slidingPredict(m, x, o).dispose();
}

const ref = new ReferenceProcess<{ s?: number }>(SCRIPT, [String(THREADS)]);
setNumThreads(THREADS);
console.log(
  `threads ${THREADS}; ${WARMUP} warm-up, best of ${ROUNDS} rounds per side, sides alternating`,
);
const rows: { id: string; kdep: number; torch: number }[] = [];
for (const [id, s] of specs) {
  await ref.call({ op: "setup", spec: s, warmup: WARMUP });
  const step = ours(s);
  for (let i = 0; i < WARMUP; i++) step();
  let kdep = Number.POSITIVE_INFINITY;
  let torch = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    torch = Math.min(torch, (await ref.call({ op: "time", iters: 1 })).s ?? Number.NaN);
    const t0 = performance.now();
    step();
    kdep = Math.min(kdep, (performance.now() - t0) / 1000);
  }
  rows.push({ id, kdep, torch });
  console.error(`  ${id}: kdep ${kdep.toFixed(3)} s, torch ${torch.toFixed(3)} s`);
}
ref.close();
console.log("\n| workload | kdep s | torch s | speed kdep/torch |\n|---|---:|---:|---:|");
for (const r of rows)
  console.log(
    `| ${r.id} | ${r.kdep.toFixed(3)} | ${r.torch.toFixed(3)} | ${(r.torch / r.kdep).toFixed(3)} |`,
  );
