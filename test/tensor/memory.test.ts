// 300 training steps of a small convnet inside tidy scopes: no handle leaks, and resident
// memory stays flat after warm-up.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
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

  it("GC frees tensors no scope owns once they are unreachable", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settle(); // earlier tests' unreachable tensors go first
    const before = T.liveTensors();
    // Created outside any scope and dropped: only the finalization registry can free them.
    (() => {
      for (let i = 0; i < 50; i++) T.ones([256]).mul(2);
    })();
    assert.equal(T.liveTensors(), before + 100);
    // A tensor escaping tidy is watched too; one disposed explicitly is not freed twice.
    let escaped: T.Tensor | null = T.tidy(() => T.ones([3]).add(1));
    const disposed = T.ones([3]);
    disposed.dispose();
    const held = T.ones([3]);
    assert.equal(T.liveTensors(), before + 102);
    escaped = null;
    await settle();
    assert.equal(escaped, null);
    assert.equal(T.liveTensors(), before + 1, "only the tensor still referenced is alive");
    assert.deepEqual(held.toArray(), [1, 1, 1]);
  });
});
