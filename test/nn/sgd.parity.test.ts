import { after, describe, it } from "node:test";
import * as F from "../../src/nn/functional.js";
import { SGD } from "../../src/optim/index.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";
import { SMALL_NET_PY, smallNet } from "./smallNet.js";

describe("SGD parity", () => {
  const ref = new TorchRef();
  after(() => ref.close());

  for (const nesterov of [false, true]) {
    it(`20 steps with momentum + weight decay${nesterov ? " + nesterov" : ""} give PyTorch's weights`, async () => {
      T.manualSeed(5);
      const net = smallNet();
      const init = [...net.stateDict().values()].map((t) => t.detach().clone());
      const xs = Array.from({ length: 20 }, () => T.randn([8, 3, 16, 16]));
      const ys = Array.from({ length: 20 }, () => T.randint(0, 10, [8]));
      // Two groups: the head gets its own lr and no weight decay, as fine-tuning recipes do.
      const params = net.parameters();
      const opt = new SGD(
        [{ params: params.slice(0, -2) }, { params: params.slice(-2), lr: 0.05, weightDecay: 0 }],
        { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov, dampening: 0 },
      );
      net.train();
      for (let s = 0; s < 20; s++) {
        T.tidy(() => {
          opt.zeroGrad();
          F.crossEntropy(net.forward(xs[s]), ys[s]).backward();
          opt.step();
        });
      }
      const inputs: Record<string, T.Tensor> = {};
      init.forEach((t, i) => {
        inputs[`p${i}`] = t;
      });
      xs.forEach((x, i) => {
        inputs[`x${i}`] = x;
      });
      ys.forEach((y, i) => {
        inputs[`y${i}`] = y;
      });
      const code = `${SMALL_NET_PY()}
sd = net.state_dict()
for i, k in enumerate(sd.keys()):
    sd[k].copy_(globals()["p%d" % i])
ps = list(net.parameters())
opt = torch.optim.SGD([{"params": ps[:-2]}, {"params": ps[-2:], "lr": 0.05, "weight_decay": 0}],
                      lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=${nesterov ? "True" : "False"})
net.train()
for s in range(20):
    opt.zero_grad()
    F.cross_entropy(net(globals()["x%d" % s]), globals()["y%d" % s]).backward()
    opt.step()
out = list(net.state_dict().values())`;
      const sd = [...net.stateDict().entries()];
      const theirs = await ref.run(
        code,
        inputs,
        sd.map((_, i) => `out[${i}]`),
      );
      sd.forEach(([k, t], i) => {
        assertClose(t.detach(), theirs[i], k, 1e-4, 1e-5);
      });
    });
  }

  it("state dict round-trips the momentum buffers", () => {
    T.manualSeed(1);
    const w = T.randn([3]).requiresGrad_(true);
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    w.sum().backward();
    opt.step();
    const sd = opt.stateDict();
    const w2 = w.detach().clone().requiresGrad_(true);
    const opt2 = new SGD([w2], { lr: 0.5 });
    opt2.loadStateDict(sd);
    for (const o of [opt, opt2]) {
      o.zeroGrad();
    }
    w.sum().backward();
    w2.sum().backward();
    opt.step();
    opt2.step();
    assertClose(w2.detach(), w.detach(), "weights after resumed step", 0, 0);
  });
});
