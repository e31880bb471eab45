// Model-zoo throughput against PyTorch on the same machine, same thread count, same run:
// ResNet-18 training steps (forward, cross-entropy, backward, SGD step) and ResNet-50 /
// MobileNetV2 inference, each in NCHW and channels-last, printed as a table with the ratio.
// The two sides are timed in alternation and the best round of each is kept: this 2-core
// VM's speed drifts by up to 2x over minutes, which would swamp back-to-back runs.
//
//   node dist/bench/models/run.js   (KDEP_BENCH_THREADS, _WARMUP, _ROUNDS, _ITERS override)
import { fileURLToPath } from "node:url";
import { createModel } from "../../src/models/index.js";
import { crossEntropy } from "../../src/nn/functional.js";
import { SGD } from "../../src/optim/index.js";
import {
  inferenceMode,
  manualSeed,
  randint,
  randn,
  setNumThreads,
  tidy,
} from "../../src/tensor/index.js";
import { envNumber, ReferenceProcess } from "../util.js";

const THREADS = envNumber("KDEP_BENCH_THREADS", 2);
const WARMUP = envNumber("KDEP_BENCH_WARMUP", 1);
const ROUNDS = envNumber("KDEP_BENCH_ROUNDS", 2);
const ITERS = envNumber("KDEP_BENCH_ITERS", 2);
const SCRIPT = fileURLToPath(new URL("../../../bench/reference/models.py", import.meta.url));

interface Spec {
  id: string;
  kind: "train" | "infer";
  model: "resnet18" | "resnet50" | "mobilenet_v2";
  batch: number;
  size: number;
  channelsLast: boolean;
}

const base: Omit<Spec, "id" | "channelsLast">[] = [
  { kind: "train", model: "resnet18", batch: 32, size: 224 },
  { kind: "train", model: "resnet18", batch: 64, size: 112 },
  { kind: "infer", model: "resnet50", batch: 32, size: 224 },
  { kind: "infer", model: "mobilenet_v2", batch: 32, size: 224 },
];
const specs: Spec[] = base.flatMap((b) =>
  [false, true].map((cl) => ({
    ...b,
    channelsLast: cl,
    id: `${b.model} ${b.kind} b${b.batch}@${b.size}${cl ? " NHWC" : ""}`,
  })),
);

/** Our side of one workload: model, input, and one step (train or inference). */
function setup(s: Spec): { step: () => void; close: () => void } {
  manualSeed(0);
  const m = createModel(s.model, { channelsLast: s.channelsLast });
  const x0 = randn([s.batch, 3, s.size, s.size]);
  const x = s.channelsLast ? x0.contiguous("channelsLast") : x0;
  const free = () => {
    x0.dispose();
    x.dispose();
    m.dispose();
  };
  if (s.kind === "infer") {
    m.eval();
    return { step: () => inferenceMode(() => m.forward(x).dispose()), close: free };
  }
  m.train();
  const t = randint(0, 1000, [s.batch]);
  const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const step = () =>
    tidy(() => {
      const loss = crossEntropy(m.forward(x), t);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  const close = () => {
    opt.zeroGrad();
    for (const b of opt.stateDict().state.values()) b.momentum_buffer.dispose();
    t.dispose();
    free();
  };
  return { step, close };
}

const torchRef = new ReferenceProcess<{ ips?: number }>(SCRIPT, [String(THREADS)]);
setNumThreads(THREADS);
console.log(
  `threads ${THREADS}; per side ${WARMUP} warm-up step(s), then the best of ${ROUNDS} rounds of ${ITERS} step(s), sides alternating`,
);
const rows: { s: Spec; kdep: number; torch: number }[] = [];
for (const s of specs) {
  await torchRef.call({ op: "setup", spec: s, warmup: WARMUP });
  const mine = setup(s);
  for (let i = 0; i < WARMUP; i++) mine.step();
  let kdep = 0;
  let torch = 0;
  for (let r = 0; r < ROUNDS; r++) {
    torch = Math.max(torch, (await torchRef.call({ op: "time", iters: ITERS })).ips ?? 0);
    const t0 = performance.now();
    for (let i = 0; i < ITERS; i++) mine.step();
    kdep = Math.max(kdep, (s.batch * ITERS) / ((performance.now() - t0) / 1000));
  }
  mine.close();
  rows.push({ s, kdep, torch });
  console.error(`  ${s.id}: kdep ${kdep.toFixed(1)}, torch ${torch.toFixed(1)} img/s`);
}
torchRef.close();

const pad = (v: string, n: number) => v.padEnd(n);
console.log(`${pad("workload", 34)}${pad("kdep img/s", 12)}${pad("torch img/s", 13)}kdep/torch`);
for (const { s, kdep, torch } of rows) {
  const ratio = (kdep / torch).toFixed(3);
  console.log(`${pad(s.id, 34)}${pad(kdep.toFixed(1), 12)}${pad(torch.toFixed(1), 13)}${ratio}`);
}
