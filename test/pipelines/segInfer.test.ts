// Sliding-window + flip inference against semseg's test procedure written in Python
// (test/helpers/pspnet_ref.py), on two odd-size images (one smaller than the crop, so it is
// padded; one larger, so windows overlap), at one scale and at two.
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PSPNet } from "../../src/models/pspnet.js";
import { scaledSize, slidingPredict, slidingProbs } from "../../src/pipelines/transfer/segInfer.js";
import { manualSeed, randn, setNumThreads, type Tensor } from "../../src/tensor/index.js";
import { TorchRef } from "../helpers/torchRef.js";
import { assertRel, runWithDicts } from "../models/refState.js";

setNumThreads(1);
const ref = new TorchRef();
after(() => ref.close());
const HELPERS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../test/helpers");

describe("sliding-window inference", () => {
  it("rounds the scaled size as Python's round does (half to even)", () => {
    assert.deepEqual(scaledSize(4, 2, 5), [5, 2]); // round(2.5) == 2 in Python
    assert.deepEqual(scaledSize(2, 4, 7), [4, 7]); // round(3.5) == 4
  });

  it("equals semseg's procedure on two odd-size images, one and two scales", async () => {
    const classes = 4;
    const crop: [number, number] = [33, 35];
    manualSeed(7);
    const images: Tensor[] = [randn([1, 3, 27, 31]), randn([1, 3, 61, 45])];
    const cases = [
      { scales: [1], baseSize: 64 },
      { scales: [0.75, 1.25], baseSize: 48 },
    ];
    const code = `import sys
sys.path.insert(0, ${JSON.stringify(HELPERS)})
import pspnet_ref
torch.manual_seed(0)
m = randomize_bn(pspnet_ref.PSPNetRef("resnet18", ${classes}, head_channels=32))
sd0 = sd_copy(m)
outs = []
for img in (img0, img1):
    for scales, base in ${JSON.stringify(cases.map((c) => [c.scales, c.baseSize]))}:
        outs.append(pspnet_ref.sliding_probs(m, img, ${classes}, ${JSON.stringify(crop)}, base, scales))
`;
    const outNames = [0, 1, 2, 3].map((i) => `outs[${i}]`);
    const { dicts, outputs } = await runWithDicts(
      ref,
      code,
      { img0: images[0], img1: images[1] },
      ["sd0"],
      outNames,
    );
    const model = new PSPNet({ backbone: "resnet18", numClasses: classes, headChannels: 32 });
    model.loadStateDict(dicts[0], { strict: true });
    let k = 0;
    for (const img of images) {
      for (const c of cases) {
        const o = { crop, baseSize: c.baseSize, scales: c.scales };
        const probs = slidingProbs(model, img, o);
        const want = outputs[k++].unsqueeze(0);
        assertRel(probs, want, `image ${img.shape} scales ${c.scales}`, 1e-5);
        // Same classes wherever the reference's top two are not a near tie.
        const pred = slidingPredict(model, img, o).toTypedArray() as BigInt64Array;
        const [top2] = want.topk(2, 1);
        const gap = top2.select(1, 0).sub(top2.select(1, 1)).flatten().toTypedArray();
        const wantPred = want.argmax(1).flatten().toTypedArray() as BigInt64Array;
        let differ = 0;
        for (let i = 0; i < pred.length; i++)
          if (pred[i] !== wantPred[i] && gap[i] > 1e-5) differ++;
        assert.equal(differ, 0, "argmax differs from the reference");
        assert.equal(pred.length, img.size(2) * img.size(3));
      }
    }
    model.dispose();
  });
});
