// bench/ops: per-call overhead, a conv forward+backward and a small training step, against
// PyTorch on the same machine in the same run.  Run: node dist/bench/ops/run.js
import * as F from "../../src/nn/functional.js";
import { SGD } from "../../src/optim/index.js";
import * as T from "../../src/tensor/index.js";
import { smallNet } from "../../test/nn/smallNet.js";
import { printTable, runReference, timeit } from "../util.js";

const threads = T.getNumThreads();
const torch = runReference("ops.py", [String(threads)]);

const a = T.ones([4]);
const b = T.ones([4]);
// Inside a scope, as in every training step; outside one, each result is also registered
// with the GC safety net.
const tiny =
  timeit(
    () =>
      T.tidy(() => {
        for (let i = 0; i < 1000; i++) T.add(a, b);
      }),
    50,
  ) / 1000;
const tinyLoose =
  timeit(() => {
    for (let i = 0; i < 1000; i++) T.add(a, b).dispose();
  }, 50) / 1000;

T.manualSeed(0);
const x = T.randn([8, 64, 56, 56]).requiresGrad_(true);
const w = T.randn([64, 64, 3, 3]).requiresGrad_(true);
const conv = timeit(
  () =>
    T.tidy(() => {
      F.conv2d(x, w, null, { padding: 1 }).sum().backward();
      x.grad = null;
      w.grad = null;
    }),
  10,
);

const net = smallNet();
const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
const xs = T.randn([64, 3, 32, 32]);
const ys = T.randint(0, 10, [64]);
const step = timeit(
  () =>
    T.tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(net.forward(xs), ys).backward();
      opt.step();
    }),
  30,
);

printTable(`bench/ops (${threads} threads)`, [
  {
    name: "tiny op (add of 4 floats), per call, in tidy",
    unit: "s",
    ours: tiny,
    torch: torch.tiny,
    target: 0.95,
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
