// BatchNorm folding (src/models/fold.ts): a folded ResNet / MobileNetV2 computes what the
// unfolded one does, and what torch.fx's fuse makes of torchvision's model with the same
// (non-trivial) BN statistics, down to the fused state dict; afterwards it refuses training.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { convBnPairs, foldBatchNorm } from "../../src/models/fold.js";
import { MobileNetV2 } from "../../src/models/mobilenetv2.js";
import { createModel } from "../../src/models/registry.js";
import { BatchNorm2d } from "../../src/nn/batchnorm.js";
import { Conv2d } from "../../src/nn/linear.js";
import { Module } from "../../src/nn/module.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";
import { randomizeBn } from "../pipelines/fixtures/targetsFixture.js";
import { assertRel, runWithDicts } from "./refState.js";

const ref = new TorchRef();
after(() => ref.close());

function disposeAll(m: Map<string, T.Tensor>): void {
  for (const t of m.values()) t.dispose();
}

/** A model of the zoo with torch's randomised BN statistics loaded (see refState.ts). */
function withState(name: string, sd: Map<string, T.Tensor>, opts = {}) {
  const model = createModel(name, opts);
  model.loadStateDict(sd, { strict: true });
  return model.eval();
}

describe("foldBatchNorm", () => {
  for (const name of ["resnet18", "resnet50", "mobilenet_v2"]) {
    it(`${name}: folded = unfolded = torch.fx fuse (outputs ≤ 1e-5 relative, fused state dict exact)`, async () => {
      T.manualSeed(3);
      const x = T.randn([2, 3, 64, 64]);
      const code = `
import torch.fx.experimental.optimization as _opt
torch.manual_seed(0)
m = randomize_bn(torchvision.models.${name}()).eval()
sd0 = sd_copy(m)
fused = _opt.fuse(m)
assert not any(isinstance(b, nn.BatchNorm2d) for b in fused.modules())
with torch.no_grad():
    y_fused = fused(x)
`;
      const { dicts, outputs } = await runWithDicts(
        ref,
        code,
        { x },
        ["sd0", "fused.state_dict()"],
        ["y_fused"],
      );
      const [sd0, fusedSd] = dicts;
      const [yFused] = outputs;
      const model = withState(name, sd0);
      const yPlain = T.noGrad(() => model.forward(x));
      const bns = model.modules().filter((m) => m instanceof BatchNorm2d).length;
      assert.equal(convBnPairs(model).length, bns, "every BN has its conv");
      const weight = (model.modules().find((m) => m instanceof Conv2d) as Conv2d).weight;

      const live = T.liveTensors();
      assert.equal(foldBatchNorm(model), model);
      // In place: the first conv keeps its weight tensor; each BN's four tensors and its
      // counter are freed, one bias per conv is added.
      assert.equal((model.modules().find((m) => m instanceof Conv2d) as Conv2d).weight, weight);
      assert.equal(T.liveTensors(), live - 4 * bns);
      const yFolded = T.noGrad(() => model.forward(x));
      assertRel(yFolded, yPlain, `${name}: folded vs unfolded logits`);
      assertRel(yFolded, yFused, `${name}: folded vs torch.fx fuse logits`);

      const ours = model.stateDict();
      assert.deepEqual([...ours.keys()], [...fusedSd.keys()], "folded state-dict keys and order");
      // The same elementwise products in the same order (IEEE-exact): bit for bit.
      for (const [k, v] of fusedSd) assertClose(ours.get(k)!, v, `${name}: fused ${k}`, 0, 0);

      for (const t of [x, yFused, yPlain, yFolded]) t.dispose();
      disposeAll(sd0);
      disposeAll(fusedSd);
      model.dispose();
    });
  }

  it("channels-last ResNet-18 with the pre-ReLU feature: the teacher's feature unchanged", () => {
    T.manualSeed(4);
    const model = createModel("resnet18", { channelsLast: true, preReluFeature: true });
    randomizeBn(model);
    model.eval();
    const x = T.randn([3, 3, 48, 48]);
    const feature = (m: typeof model) =>
      T.noGrad(() => m.forwardHead(m.forwardFeatures(x), { preLogits: true }));
    const plain = feature(model);
    foldBatchNorm(model);
    assert.ok(model.getModule("conv1")!.getParameter("weight")!.isContiguous("channelsLast"));
    const folded = feature(model);
    assertRel(folded, plain, "pre-ReLU feature");
    // Folding again changes nothing.
    foldBatchNorm(model);
    assert.deepEqual(feature(model).toArray(), folded.toArray());
    model.dispose();
  });

  it("a folded model refuses training, gradients, loading and grad-mode forwards", () => {
    const model = foldBatchNorm(new MobileNetV2({ numClasses: 4 }));
    const inferenceOnly = /inference-only; build it again from its weights/;
    assert.equal(model.training, false);
    assert.ok(model.parameters().every((p) => !p.requiresGrad));
    assert.throws(() => model.train(), /MobileNetV2\.train\(\) refused: MobileNetV2 has its/);
    assert.throws(() => model.body.at(3).train(), inferenceOnly);
    assert.throws(() => model.requiresGrad_(true), inferenceOnly);
    assert.throws(() => model.loadStateDict(model.stateDict()), inferenceOnly);
    model.eval().requiresGrad_(false); // what the teacher stages call: still allowed
    const x = T.randn([1, 3, 32, 32]);
    assert.throws(
      () => model.forward(x),
      /BatchNorm2d\(32\) is folded into its convolution: .*run it under noGrad/,
    );
    assert.equal(T.noGrad(() => model.forward(x)).shape.join(), "1,4");
    model.dispose();
  });

  it("refuses a model whose conv → BN pairs it does not know", () => {
    class Odd extends Module {
      constructor() {
        super();
        this.registerModule("bn", new BatchNorm2d(3));
      }
    }
    assert.throws(() => foldBatchNorm(new Odd()), /Odd is not a ResNet or MobileNetV2/);
  });

  it("the distiller freezes its teacher (folded, channels-last) and its targets stay the unfolded teacher's", () => {
    T.manualSeed(5);
    const teacher = createModel("resnet18", { numClasses: 0, width: 8 });
    randomizeBn(teacher);
    const twin = createModel("resnet18", { numClasses: 0, width: 8, preReluFeature: true });
    twin.loadStateDict(teacher.stateDict());
    twin.eval();
    const student = createModel("resnet18", { numClasses: 0, width: 4 });
    const svd = { V: T.eye(64), mean: T.zeros([64]) };
    const d = new Distiller(teacher, student, new SvdAlignment(svd, 32, 1, null));
    assert.ok(teacher.inferenceOnly, "the teacher is folded");
    const w = teacher.getModule("conv1")!.getParameter("weight")!;
    assert.ok(w.isContiguous("channelsLast"), "on the CPU, in channels-last memory");
    assert.ok(!w.requiresGrad);
    d.train(); // the student trains; the teacher is not part of the distiller's modules
    const x = T.randn([2, 3, 32, 32]);
    const want = T.noGrad(() => twin.forwardHead(twin.forwardFeatures(x), { preLogits: true }));
    assertRel(d.teacherOut(x).feature, want, "teacher feature");
  });
});
