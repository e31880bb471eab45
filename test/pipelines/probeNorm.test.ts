// A linear probe with probeNorm: the backbone stays frozen, the BatchNorm (no affine) before
// the head learns the features' statistics and is saved with the run, and the reported top-1
// is that of fc((feature − running_mean) / √(running_var + eps)), recomputed here by hand.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataLoader } from "../../src/data/loader.js";
import { createModel } from "../../src/models/registry.js";
import { toTensors } from "../../src/pipelines/common/batches.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { runClassification } from "../../src/pipelines/transfer/classify.js";
import { TransferConfigSchema } from "../../src/pipelines/transfer/classifyConfig.js";
import { noGrad, type Tensor } from "../../src/tensor/index.js";
import { fmnistSmall, TEST_32, TRAIN_32 } from "./fixtures/fmnist.js";

test("linear probe with probeNorm: frozen backbone, saved BN statistics, top-1 by hand", async () => {
  const train = await fmnistSmall(3);
  const testSet = await fmnistSmall(2, "test");
  const out = mkdtempSync(join(tmpdir(), "kdep-probe-norm-"));
  const config = TransferConfigSchema.parse({
    mode: "linear-probe",
    probeNorm: true,
    epochs: 3,
    batchSize: 10,
    lr: 0.1,
    lrStep: 3,
    evalEvery: 3,
    workers: 0,
    imageSize: 32,
    out,
  });
  let initial = new Map<string, number[]>();
  const r = await runClassification({
    config,
    createBackbone: () => {
      const m = createModel("resnet18", { numClasses: 0, width: 4 });
      initial = new Map([...m.stateDict()].map(([k, t]) => [k, t.toArray()]));
      return m;
    },
    numClasses: 10,
    train,
    test: testSet,
    trainTransform: TRAIN_32,
    testTransform: TEST_32,
  });
  const sd = r.model.stateDict();
  for (const [k, v] of initial) assert.deepEqual(sd.get(k)!.toArray(), v, `${k} frozen`);
  const ck = loadCheckpointFile(join(r.runDir, "checkpoint.pth"));
  const bn = ck.state.probeNorm as Map<string, Tensor>;
  const rm = bn.get("running_mean")!.toArray();
  const rv = bn.get("running_var")!.toArray();
  assert.equal(rm.length, r.model.featureDim);
  assert.ok(!bn.has("weight") || bn.get("weight") === null, "no affine");
  assert.ok(
    rv.some((v) => Math.abs(v - 1) > 1e-3),
    "running_var learnt from the features",
  );
  const w = sd.get("fc.weight")!.toArray();
  const b = sd.get("fc.bias")!.toArray();
  const d = r.model.featureDim;
  r.model.eval();
  let correct = 0;
  const loader = new DataLoader(testSet, { batchSize: 20, transform: TEST_32, numWorkers: 0 });
  for await (const batch of loader.epoch(0)) {
    const { images, labels } = toTensors(batch);
    const f = noGrad(() =>
      r.model.forwardHead(r.model.forwardFeatures(images), { preLogits: true }),
    ).toArray();
    const ys = labels.toArray();
    ys.forEach((y, i) => {
      let best = -1;
      let arg = -1;
      for (let c = 0; c < b.length; c++) {
        let z = b[c];
        for (let j = 0; j < d; j++)
          z += (w[c * d + j] * (f[i * d + j] - rm[j])) / Math.sqrt(rv[j] + 1e-5);
        if (z > best || arg < 0) [best, arg] = [z, c];
      }
      if (arg === y) correct++;
    });
  }
  await loader.close();
  const top1 = (100 * correct) / testSet.length;
  assert.ok(Math.abs(top1 - r.finalTop1) < 1e-9, `top-1 by hand ${top1} vs ${r.finalTop1}`);
});
