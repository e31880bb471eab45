// The SVD pass on a real teacher pass (docs/method.md#svd-alignment): V, μ and σ from `runSvd`,
// streamed and --exact, against torch.linalg.svd of the centred features of the same augmented
// images.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DataLoader } from "../../src/data/loader.js";
import { kdepTrainTransform } from "../../src/data/transforms/pipeline.js";
import { writeNpy } from "../../src/io/npy.js";
import { toRaw } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import { toTensors } from "../../src/pipelines/common/batches.js";
import { runSvd } from "../../src/pipelines/kdep/svdPass.js";
import * as T from "../../src/tensor/index.js";
import { runPythonJson } from "../helpers/python.js";
import { fmnistSmall } from "./fixtures/fmnist.js";

// Compares one SVD folder with torch.linalg.svd of X − mean(X) in float64. σ is the singular
// value of the centred X (= √λ of the centred scatter XcᵀXc, not divided by N), as in §3.
// A component counts as well separated when its σ is clear of the null space (> 1e-4·σ₀) and
// its relative gap to each neighbour, |σ_j − σ_{j±1}| / σ_j, exceeds 1e-3; column signs are
// arbitrary, so columns are compared by |cos|.
const COMPARE = `
import sys, json, numpy as np, torch
X = torch.from_numpy(np.load(sys.argv[1])).double()
mu = X.mean(0)
_, S, Vh = torch.linalg.svd(X - mu, full_matrices=True)
d = X.shape[1]
S = torch.cat([S, torch.zeros(d - S.numel(), dtype=S.dtype)])
out = {}
for name in sys.argv[2:]:
    V = torch.from_numpy(np.load(name + "/V.npy")).double()
    m = torch.from_numpy(np.load(name + "/mean.npy")).double()
    s = torch.from_numpy(np.load(name + "/singular_values.npy")).double()
    rank = int((S > 1e-4 * S[0]).sum())
    nb = torch.cat([S[:1] * 1e9, S, torch.zeros(1, dtype=S.dtype)])
    gap = torch.minimum(nb[:-2] - S, S - nb[2:]).abs() / S.clamp_min(1e-300)
    sep = [j for j in range(rank) if gap[j] > 1e-3]
    cos = (V.T @ Vh.T).diagonal().abs()
    worst = min(sep, key=lambda j: cos[j].item())
    out[name] = {
        "shape": list(V.shape), "rank": rank, "separated": len(sep),
        "minCos": cos[worst].item(), "worst": worst,
        "meanErr": ((m - mu).abs().max() / mu.abs().max()).item(),
        "sigmaErr": ((s - S).abs().max() / S[0]).item(),
        "sigma0": S[0].item(),
    }
print(json.dumps(out))
`;

interface Stats {
  shape: number[];
  rank: number;
  separated: number;
  minCos: number;
  worst: number;
  meanErr: number;
  sigmaErr: number;
  sigma0: number;
}

describe("SVD pass on a real teacher", () => {
  // ResNet-50 (bottleneck, the paper's teacher topology) at width 16 has d = 512 > N = 300,
  // so V's tail spans the null space; ResNet-18 at width 16 has d = 128 < N.
  for (const [arch, dim] of [
    ["resnet50", 512],
    ["resnet18", 128],
  ] as const) {
    it(`${arch} (d = ${dim}) over 300 Fashion-MNIST images: streamed and --exact match torch.linalg.svd`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "kdep-svd-teacher-"));
      T.manualSeed(7);
      const teacher = createModel(arch, { numClasses: 0, width: 16, preReluFeature: true });
      assert.equal(teacher.featureDim, dim);
      const data = await fmnistSmall(30);
      const transform = kdepTrainTransform(32);
      const common = {
        teacher,
        teacherId: `${arch}@test`,
        data,
        transform,
        batchSize: 64,
        workers: 1,
        seed: 3,
        progress: "quiet" as const,
      };
      // Streamed, interrupted after 2 of 5 batches and resumed from the saved accumulators.
      const streamed = join(dir, "streamed");
      const part = await runSvd({ ...common, out: streamed, stopAfterBatches: 2 });
      assert.ok(part.stopped && part.result === null);
      assert.equal(part.manifest.count, 128);
      const full = await runSvd({ ...common, out: streamed });
      assert.equal(full.manifest.count, 300);
      const exact = join(dir, "exact");
      assert.equal((await runSvd({ ...common, out: exact, exact: true })).manifest.count, 300);

      // X: the teacher's pooled pre-ReLU feature of the same augmented images (the loader
      // augments sample i of epoch 0 with Rng(seed, 0, i), whatever the batching).
      const loader = new DataLoader(data, {
        batchSize: 50,
        transform,
        seed: 3,
        numWorkers: 1,
        labelDtype: "int64",
      });
      const rows: T.Tensor[] = [];
      for await (const b of loader.epoch(0)) {
        rows.push(
          T.keep(
            T.tidy(() =>
              T.noGrad(() => {
                const { images } = toTensors(b);
                return teacher.forwardHead(teacher.forwardFeatures(images), { preLogits: true });
              }),
            ),
          ),
        );
      }
      await loader.close();
      const X = T.cat(rows);
      assert.deepEqual(X.shape, [300, dim]);
      writeNpy(join(dir, "X.npy"), toRaw(X));

      const stats = runPythonJson<Record<string, Stats>>(COMPARE, [
        join(dir, "X.npy"),
        streamed,
        exact,
      ]);
      for (const [name, s] of Object.entries(stats)) {
        const what = `${arch} ${name.endsWith("exact") ? "exact" : "streamed"}`;
        assert.deepEqual(s.shape, [dim, dim], `${what}: V is d×d`);
        // The criterion must leave most components in, or the check would prove little.
        const top = Math.min(dim, 299);
        assert.ok(s.separated >= 0.8 * top, `${what}: ${s.separated} of ${top} separated`);
        assert.ok(s.minCos >= 0.9999, `${what}: |cos| ${s.minCos} at component ${s.worst}`);
        assert.ok(s.meanErr <= 1e-6, `${what}: μ error ${s.meanErr} of max |μ|`);
        assert.ok(s.sigmaErr <= 1e-5, `${what}: σ error ${s.sigmaErr} of σ₀ = ${s.sigma0}`);
        console.log(
          `${what}: ${s.separated}/${s.rank} separated components, min |cos| ${s.minCos.toFixed(9)}, μ err ${s.meanErr.toExponential(2)}, σ err ${s.sigmaErr.toExponential(2)}·σ₀`,
        );
      }
    });
  }
});
