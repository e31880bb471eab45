// One ResNet-18 training step (batch 16 at 112 px) in float32 and under bf16 autocast on
// the CPU, timed in this process. Run it a second time with ONEDNN_MAX_CPU_ISA=AVX2 to see
// what a CPU without native bf16 pays.
//   node dist/bench/kdep/ampChild.js [ITERS]

import { createModel } from "../../src/models/registry.js";
import { F } from "../../src/nn/index.js";
import { SGD } from "../../src/optim/index.js";
import * as T from "../../src/tensor/index.js";

const iters = Number(process.argv[2] ?? 3);
const m = createModel("resnet18", { numClasses: 0 }).train();
const opt = new SGD(m.parameters(), { lr: 0.01 });
const x = T.randn([16, 3, 112, 112]);
const y = T.randn([16, 512]);
const step = (bf16: boolean) =>
  T.tidy(() => {
    opt.zeroGrad();
    const out = bf16 ? T.withAutocast("cpu", "bfloat16", () => m.forward(x)) : m.forward(x);
    F.mseLoss(out.float(), y).backward();
    opt.step();
  });
const time = (bf16: boolean) => {
  step(bf16);
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const a = performance.now();
    step(bf16);
    ts.push(performance.now() - a);
  }
  return ts.sort((a, b) => a - b)[ts.length >> 1];
};
const fp32 = time(false);
const bf16 = time(true);
console.log(
  JSON.stringify({
    isa: process.env.ONEDNN_MAX_CPU_ISA ?? "native",
    fp32_ms: fp32,
    bf16_ms: bf16,
    ratio: bf16 / fp32,
  }),
);
