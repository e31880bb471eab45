// 300 training steps of a small convnet inside tidy scopes: no handle leaks, and resident
// memory stays flat after warm-up.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as F from "../../src/nn/functional.js";
import { SGD } from "../../src/optim/index.js";
import * as T from "../../src/tensor/index.js";
import { smallNet } from "../nn/smallNet.js";

describe("memory", () => {
  it("300 training steps keep the live-tensor count and RSS flat", () => {
    T.manualSeed(0);
    const net = smallNet();
    const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const step = () =>
      T.tidy(() => {
        const x = T.randn([16, 3, 32, 32]);
        const y = T.randint(0, 10, [16]);
        opt.zeroGrad();
        const loss = F.crossEntropy(net.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item();
      });
    for (let i = 0; i < 30; i++) step();
    const live = T.liveTensors();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 270; i++) step();
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.equal(T.liveTensors(), live, "live tensor handles after 270 more steps");
    assert.ok(grown < 40, `RSS grew by ${grown.toFixed(1)} MiB over 270 steps`);
  });

  it("tidy frees everything but its result; keep survives", () => {
    const before = T.liveTensors();
    const kept = T.tidy(() => {
      const a = T.ones([100]);
      T.keep(a.mul(2));
      return a.add(1);
    });
    assert.equal(T.liveTensors(), before + 2);
    assert.deepEqual(kept.toArray().slice(0, 2), [2, 2]);
  });
});
