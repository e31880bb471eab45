// kdep's side of bench/ops, one round: prints its measurements as one JSON object.
// bench/ops/run.ts starts it afresh each round, as it starts the PyTorch side.
import * as F from "../../src/nn/functional.js";
import { SGD } from "../../src/optim/index.js";
import * as T from "../../src/tensor/index.js";
import { smallNet } from "../../test/nn/smallNet.js";
import { timeit } from "../util.js";

const a = T.ones([4]);
const b = T.ones([4]);
T.manualSeed(0);
const x = T.randn([8, 64, 56, 56]).requiresGrad_(true);
const w = T.randn([64, 64, 3, 3]).requiresGrad_(true);
const net = smallNet();
const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
const xs = T.randn([64, 3, 32, 32]);
const ys = T.randint(0, 10, [64]);

function ours(): Record<string, number> {
  // Like for like with Python, where each result is freed as soon as it is dropped: freed at
  // once inside a scope (no GC registration). Then freed together when the scope ends (the
  // usual training-step code: 1000 results alive at once, colder caches), and outside any
  // scope, where each result is also registered with the GC safety net.
  const tiny =
    timeit(
      () =>
        T.tidy(() => {
          for (let i = 0; i < 1000; i++) T.add(a, b).dispose();
        }),
      50,
    ) / 1000;
  const tinyScoped =
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
  const conv = timeit(
    () =>
      T.tidy(() => {
        F.conv2d(x, w, null, { padding: 1 }).sum().backward();
        x.grad = null;
        w.grad = null;
      }),
    10,
  );
  const step = timeit(
    () =>
      T.tidy(() => {
        opt.zeroGrad();
        F.crossEntropy(net.forward(xs), ys).backward();
        opt.step();
      }),
    30,
  );
  return { tiny, tinyScoped, tinyLoose, conv, step };
}

console.log(JSON.stringify(ours()));
