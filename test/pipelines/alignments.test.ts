// The linear and logit alignments against the same formulas in PyTorch: loss, gradients of
// the student feature and of the alignment's own parameters, and BN's running statistics.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { LinearAlignment, LogitAlignment } from "../../src/pipelines/kdep/alignment.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

describe("KDEP alignments", () => {
  const ref = new TorchRef();
  after(() => ref.close());

  for (const pts of [null, { temperature: 0.1, power: 3 }]) {
    it(`linear: weight·MSE(BN(Wx + b), ${pts ? "PTS(t)" : "t"}) with its gradients`, async () => {
      T.manualSeed(4);
      const align = new LinearAlignment(8, 12, 2.5, pts);
      align.train();
      const sd = align.stateDict();
      const s = T.randn([6, 8]).requiresGrad_(true);
      const t = T.randn([6, 12]);
      const loss = align.losses({ feature: s }, { feature: t }).feature;
      loss.backward();
      const target = pts ? "torch.sign(t) * (t.abs() / 0.1) ** (1 / 3)" : "t";
      const [L, gs, gw, gb, gg, gbeta, rm, rv] = await ref.run(
        `lin = nn.Linear(8, 12); bn = nn.BatchNorm1d(12)
with torch.no_grad():
    lin.weight.copy_(W); lin.bias.copy_(b)
loss = 2.5 * F.mse_loss(bn(lin(s)), ${target})
loss.backward()`,
        { s, t, W: sd.get("proj.weight")!, b: sd.get("proj.bias")! },
        [
          "loss",
          "s.grad",
          "lin.weight.grad",
          "lin.bias.grad",
          "bn.weight.grad",
          "bn.bias.grad",
          "bn.running_mean",
          "bn.running_var",
        ],
        ["s"],
      );
      assertClose(loss, L, "loss", 1e-5, 1e-6);
      assertClose(s.grad!, gs, "d loss / d student feature", 1e-4, 1e-6);
      const params = new Map(align.namedParameters());
      const grad = (k: string) => params.get(k)!.grad!;
      assertClose(grad("proj.weight"), gw, "proj.weight grad", 1e-4, 1e-6);
      assertClose(grad("proj.bias"), gb, "proj.bias grad", 1e-4, 1e-6);
      assertClose(grad("bn.weight"), gg, "bn.weight grad", 1e-4, 1e-6);
      assertClose(grad("bn.bias"), gbeta, "bn.bias grad", 1e-4, 1e-6);
      const after = align.stateDict();
      assertClose(after.get("bn.running_mean")!, rm, "running_mean", 1e-5, 1e-6);
      assertClose(after.get("bn.running_var")!, rv, "running_var", 1e-5, 1e-6);
    });
  }

  it("logits: weight·KL(softmax(t/τ) ‖ softmax(s/τ))·τ², batch mean, with its gradient", async () => {
    T.manualSeed(5);
    const s = T.randn([5, 7]).mul(3).requiresGrad_(true);
    const t = T.randn([5, 7]).mul(3);
    const loss = new LogitAlignment(0.7, 3).losses(
      { feature: s, logits: s },
      { feature: t, logits: t },
    ).logits;
    loss.backward();
    // Written out, not with F.kl_div: Σ q (log q − log p) / batch · τ².
    const [L, g] = await ref.run(
      `q = F.softmax(t / 3, 1); logp = F.log_softmax(s / 3, 1)
loss = 0.7 * (q * (q.log() - logp)).sum() / s.shape[0] * 9
loss.backward()`,
      { s, t },
      ["loss", "s.grad"],
      ["s"],
    );
    assertClose(loss, L, "loss", 1e-5, 1e-6);
    assertClose(s.grad!, g, "d loss / d student logits", 1e-4, 1e-6);
    assert.ok(Math.abs(L.item()) > 1e-3, "a non-trivial loss");
  });
});
