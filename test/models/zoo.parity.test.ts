// Every model of the registry against torchvision: state-dict keys and order, a strict load
// of torchvision's (randomised) state, eval-mode logits, one training-mode forward (output and
// BN running statistics), and for resnet18 / mobilenet_v2 every parameter gradient.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createModel, listModels } from "../../src/models/index.js";
import { liveTensors, manualSeed, noGrad, randn, type Tensor } from "../../src/tensor/index.js";
import { TorchRef } from "../helpers/torchRef.js";
import { assertRel, runWithDicts } from "./refState.js";

const ref = new TorchRef();
after(() => ref.close());

const TV_NAME: Record<string, string> = { mobilenet_v2: "mobilenet_v2" };
const WITH_GRAD = new Set(["resnet18", "mobilenet_v2"]);

function disposeMap(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

describe("model zoo parity with torchvision", () => {
  for (const { name } of listModels()) {
    const grad = WITH_GRAD.has(name);
    it(`${name}: keys, strict load, eval logits, train-mode BN stats${grad ? ", gradients" : ""}`, async () => {
      manualSeed(1);
      const x = randn([1, 3, 64, 64]);
      const xb = randn([2, 3, 64, 64]);
      const g = randn([2, 1000]);
      const code = `
torch.manual_seed(0)
m = randomize_bn(torchvision.models.${TV_NAME[name] ?? name}())
sd0 = sd_copy(m)
m.eval()
with torch.no_grad():
    y_eval = m(x)
m.train()
torch.manual_seed(5)
${grad ? "y_train = m(xb)\n(y_train * g).sum().backward()" : "with torch.no_grad():\n    y_train = m(xb)"}
bufs = {k: v for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}
`;
      const { dicts, outputs } = await runWithDicts(
        ref,
        code,
        { x, xb, g },
        ["sd0", "bufs", ...(grad ? ["grads(m)"] : [])],
        ["y_eval", "y_train"],
      );
      const [sd0, bufs, grads] = dicts;
      const [yEvalRef, yTrainRef] = outputs;

      const model = createModel(name);
      assert.deepEqual([...model.stateDict().keys()], [...sd0.keys()], "state-dict keys and order");
      model.loadStateDict(sd0, { strict: true });

      model.eval();
      const yEval = noGrad(() => model.forward(x));
      assertRel(yEval, yEvalRef, `${name} eval logits`);

      model.train();
      manualSeed(5); // dropout of mobilenet_v2 draws the same mask as torch's after this seed
      const yTrain = grad ? model.forward(xb) : noGrad(() => model.forward(xb));
      assertRel(yTrain, yTrainRef, `${name} train-mode logits`);
      const ours = model.stateDict();
      for (const [k, v] of bufs) assertRel(ours.get(k)!, v, `${name} ${k} after one forward`);

      if (grads) {
        const loss = yTrain.mul(g).sum();
        loss.backward();
        for (const [k, p] of model.namedParameters()) {
          const gr = p.grad;
          assert.ok(gr, `${k} has a gradient`);
          assertRel(gr, grads.get(k)!, `${name} grad ${k}`, 1e-4);
          gr.dispose();
        }
        loss.dispose();
        disposeMap(grads);
      }
      for (const t of [x, xb, g, yEval, yTrain, ...outputs]) t.dispose();
      disposeMap(sd0);
      disposeMap(bufs);
      model.dispose();
    });
  }

  it("forward frees its intermediates eagerly (only the output stays alive)", () => {
    for (const name of ["resnet18", "resnet50", "mobilenet_v2"]) {
      const model = createModel(name).eval();
      const x = randn([1, 3, 64, 64]);
      const before = liveTensors();
      const y = noGrad(() => model.forward(x));
      assert.equal(liveTensors(), before + 1, `${name}: live tensors after forward`);
      y.dispose();
      model.train();
      const y2 = model.forward(x);
      const afterTrain = liveTensors();
      assert.equal(afterTrain, before + 1, `${name}: live tensors after a training forward`);
      y2.sum().backward();
      y2.dispose();
      model.zeroGrad();
      x.dispose();
      model.dispose();
    }
  });
});
