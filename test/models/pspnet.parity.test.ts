// PSPNet against an independent PyTorch PSPNet (test/helpers/pspnet_ref.py, written from the
// protocol with torchvision backbones): same keys and order, eval logits at an input size that
// is not a multiple of 8, and one training step of the recipe (aux loss, 10× head group, poly
// lr, momentum, weight decay) giving the same weights; ResNet-50 checks the Bottleneck dilation.
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PSPNet } from "../../src/models/pspnet.js";
import { segOptimizer, segTrainStep } from "../../src/pipelines/transfer/segStep.js";
import {
  fromArray,
  manualSeed,
  noGrad,
  randn,
  setNumThreads,
  type Tensor,
  tidy,
} from "../../src/tensor/index.js";
import { TorchRef } from "../helpers/torchRef.js";
import { assertRel, runWithDicts } from "./refState.js";

setNumThreads(1);
const ref = new TorchRef();
after(() => ref.close());
const HELPERS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../test/helpers");
const IMPORT = `import sys\nsys.path.insert(0, ${JSON.stringify(HELPERS)})\nimport pspnet_ref\n`;

/** A mask with every class, some 255 pixels. */
function makeMask(n: number, h: number, w: number, classes: number): Tensor {
  const d = new BigInt64Array(n * h * w);
  for (let i = 0; i < d.length; i++) d[i] = BigInt(i % 7 === 0 ? 255 : (i * 13) % classes);
  return fromArray(d, [n, h, w]);
}

const CASES = [
  { backbone: "resnet18", size: [41, 53], head: 64 },
  { backbone: "mobilenet_v2", size: [75, 97], head: 64 },
  { backbone: "resnet50", size: [35, 29], head: 32 },
] as const;

describe("PSPNet parity with a PyTorch PSPNet", () => {
  for (const c of CASES) {
    it(`${c.backbone}: keys, eval logits at ${c.size.join("x")}, one training step`, async () => {
      const classes = 5;
      manualSeed(3);
      const x = randn([1, 3, ...c.size]);
      const xb = randn([2, 3, ...c.size]);
      const y = makeMask(2, c.size[0], c.size[1], classes);
      const lr = 0.01;
      const code = `${IMPORT}
torch.manual_seed(0)
m = randomize_bn(pspnet_ref.PSPNetRef(${JSON.stringify(c.backbone)}, ${classes}, head_channels=${c.head}, dropout=0.0))
sd0 = sd_copy(m)
m.eval()
with torch.no_grad():
    y_eval = m(x)
pspnet_ref.train_step(m, xb, y, ${lr}, 3, 10)
sd1 = sd_copy(m)
`;
      const { dicts, outputs } = await runWithDicts(
        ref,
        code,
        { x, xb, y },
        ["sd0", "sd1"],
        ["y_eval"],
      );
      const [sd0, sd1] = dicts;
      const model = new PSPNet({
        backbone: c.backbone,
        numClasses: classes,
        headChannels: c.head,
        dropout: 0,
      });
      assert.deepEqual([...model.stateDict().keys()], [...sd0.keys()], "keys and order");
      model.loadStateDict(sd0, { strict: true });
      model.eval();
      const yEval = noGrad(() => model.forward(x));
      assert.deepEqual(yEval.shape, [1, classes, ...c.size]);
      assertRel(yEval, outputs[0], `${c.backbone} eval logits`, 1e-4);

      model.train();
      const { optimizer, scheduler } = segOptimizer(model, { lr, maxIters: 10 });
      scheduler.setStep(3);
      tidy(() => segTrainStep(model, optimizer, xb, y, 0.4));
      const after1 = model.stateDict();
      for (const [k, v] of sd1) {
        if (k.endsWith("num_batches_tracked")) continue;
        assertRel(after1.get(k)!, v, `${c.backbone} ${k} after one step`, 1e-4);
      }
      for (const t of [x, xb, y, yEval, ...outputs, ...sd0.values(), ...sd1.values()]) t.dispose();
      model.dispose();
    });
  }
});
