// KDEP's target arithmetic against independent PyTorch formulas.
import { after, describe, it } from "node:test";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { FeatureMoments } from "../../src/pipelines/kdep/featureMoments.js";
import { pts } from "../../src/pipelines/kdep/pts.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

describe("KDEP targets", () => {
  const ref = new TorchRef();
  after(() => ref.close());

  it("PTS(z) = sign(z)·(|z|/T)^(1/n), PTS(0) = 0", async () => {
    T.manualSeed(0);
    const z = T.cat([T.randn([50]).mul(3), T.zeros([2])]);
    for (const [t, n] of [
      [0.1, 3],
      [0.03, 3],
      [0.2, 2],
    ]) {
      const [expected] = await ref.run(
        `y = torch.sign(z) * (z.abs() / ${t}) ** (1 / ${n})`,
        { z },
        ["y"],
      );
      assertClose(pts(z, { temperature: t, power: n }), expected, `PTS T=${t} n=${n}`, 1e-6, 1e-6);
    }
  });

  it("z = (f_T − μ)·V[:, :k] then PTS, from given V and μ", async () => {
    T.manualSeed(1);
    const f = T.randn([6, 32]);
    const V = T.randn([32, 32]);
    const mu = T.randn([32]);
    const align = new SvdAlignment({ V, mean: mu }, 8, 3, { temperature: 0.1, power: 3 });
    const [expected] = await ref.run(
      "z = (f - mu) @ V[:, :8]\ny = torch.sign(z) * (z.abs() / 0.1) ** (1 / 3)",
      { f, V, mu },
      ["y"],
    );
    assertClose(align.target({ feature: f }), expected, "target", 1e-5, 1e-5);
  });

  it("streamed moments give torch.linalg.svd's V (up to sign), μ and σ", async () => {
    T.manualSeed(2);
    // Features with a decaying spectrum, so components are well separated.
    const scales = T.fromArray(Float32Array.from({ length: 24 }, (_, i) => 4 * 0.8 ** i));
    const X = T.randn([500, 24])
      .mul(scales)
      .add(T.randn([24]));
    const m = new FeatureMoments(24);
    for (const chunk of X.split(64)) m.add(chunk);
    const r = m.finalize();
    const [mean, S, Vh] = await ref.run(
      "mu = X.double().mean(0)\n_, S, Vh = torch.linalg.svd(X.double() - mu, full_matrices=False)",
      { X },
      ["mu", "S", "Vh"],
    );
    assertClose(r.mean, mean, "mean", 1e-9, 1e-9);
    assertClose(r.singularValues, S, "singular values", 1e-5, 1e-6);
    const cos = r.V.t().mul(Vh).sum(1).abs();
    assertClose(cos, T.ones([24], { dtype: "float64" }), "|cos| of each component", 1e-4, 1e-4);
  });
});
