// Frozen BatchNorm: the backbone's BN layers stay in eval mode through train(), take no
// gradient and keep their running statistics through a training step; by default
// (trainable BN) the statistics move.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FasterRcnn } from "../../../src/models/detection/fasterRcnn.js";
import { BatchNorm2d } from "../../../src/nn/batchnorm.js";
import { fromArray, manualSeed, rand } from "../../../src/tensor/index.js";

function step(frozenBn: boolean): { moved: boolean; bnTrainable: boolean } {
  manualSeed(0);
  const m = new FasterRcnn({
    backbone: "resnet18",
    head: "c4",
    numClasses: 3,
    frozenBn,
    transform: { minSize: 64, maxSize: 96 },
    roiHeads: { batchPerImage: 16 },
  });
  m.train();
  const bn = m.backbone.modules().filter((x) => x instanceof BatchNorm2d);
  assert.ok(bn.length > 0);
  assert.equal(
    bn.every((b) => b.training === !frozenBn),
    true,
    "BN mode after train()",
  );
  const before = bn[0].getBuffer("running_mean")!.clone();
  const l = m.losses(
    [rand([3, 64, 80])],
    [{ boxes: fromArray([5, 5, 40, 50], [1, 4]), labels: fromArray([1], [1], { dtype: "int64" }) }],
  );
  l.lossClassifier.add(l.lossBoxReg).add(l.lossObjectness).add(l.lossRpnBoxReg).backward();
  const moved = bn[0].getBuffer("running_mean")!.sub(before).abs().max().item() > 0;
  return { moved, bnTrainable: bn.some((b) => b.parameters().some((p) => p.requiresGrad)) };
}

describe("frozen BatchNorm option", () => {
  it("freezes statistics and affine parameters; the default trains both", () => {
    assert.deepEqual(step(true), { moved: false, bnTrainable: false });
    assert.deepEqual(step(false), { moved: true, bnTrainable: true });
  });
});
