// Narrow trunks: a detector built at ResNet base width w takes every weight of a width-w
// classification student (none missing), and its pyramid and box head scale with w
// (256 and 1024 at 64), as the demo's narrow students need; the default keeps torchvision's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FasterRcnn } from "../../../src/models/detection/fasterRcnn.js";
import { scaledChannels } from "../../../src/models/detection/fpn.js";
import { createModel } from "../../../src/models/registry.js";
import { fromArray, manualSeed, rand, setNumThreads } from "../../../src/tensor/index.js";

setNumThreads(1);

const shapes = (m: { stateDict(): Map<string, { shape: number[] }> }) =>
  new Map([...m.stateDict()].map(([k, v]) => [k, v.shape.join("x")]));

describe("detection backbones at a narrow width", () => {
  it("scales channel counts with the width and keeps the defaults without it", () => {
    assert.equal(scaledChannels(256, 16), 64);
    assert.equal(scaledChannels(1024, 16), 256);
    assert.equal(scaledChannels(256, 1), 8, "never below 8 channels");
    assert.equal(scaledChannels(256), 256);
    const wide = new FasterRcnn({ backbone: "resnet18", head: "fpn", numClasses: 3 });
    assert.equal(wide.backbone.outChannels, 256);
    const sd = shapes(wide);
    assert.equal(sd.get("roi_heads.box_head.fc6.weight"), "1024x12544");
  });

  for (const head of ["fpn", "c4"] as const) {
    it(`${head}: a width-16 student's weights all load, and a training step runs`, () => {
      manualSeed(0);
      const m = new FasterRcnn({
        backbone: "resnet18",
        head,
        width: 16,
        numClasses: 3,
        transform: { minSize: 64, maxSize: 96 },
        roiHeads: { batchPerImage: 16 },
      });
      const student = createModel("resnet18", { numClasses: 0, width: 16 });
      const r = m.backbone.trunk.loadStateDict(student.stateDict(), { strict: false });
      assert.deepEqual(r.missingKeys, [], "every trunk parameter comes from the student");
      assert.deepEqual(r.unexpectedKeys, []);
      const sd = shapes(m);
      assert.equal(sd.get("backbone.body.conv1.weight"), "16x3x7x7");
      if (head === "fpn") {
        assert.equal(m.backbone.outChannels, 64);
        assert.equal(sd.get("backbone.fpn.inner_blocks.3.0.weight"), "64x128x1x1");
        assert.equal(sd.get("roi_heads.box_head.fc6.weight"), `256x${64 * 49}`);
        assert.equal(sd.get("roi_heads.box_predictor.cls_score.weight"), "3x256");
      } else {
        assert.equal(m.backbone.outChannels, 64, "layer3 of a width-16 ResNet-18");
        assert.equal(sd.get("roi_heads.box_predictor.cls_score.weight"), "3x128");
      }
      m.train();
      const l = m.losses(
        [rand([3, 64, 80])],
        [
          {
            boxes: fromArray([5, 5, 40, 50], [1, 4]),
            labels: fromArray([1], [1], { dtype: "int64" }),
          },
        ],
      );
      const total = l.lossClassifier.add(l.lossBoxReg).add(l.lossObjectness).add(l.lossRpnBoxReg);
      assert.ok(Number.isFinite(total.item()), `finite loss, got ${total.item()}`);
    });
  }

  it("refuses a width for MobileNetV2 in one line", () => {
    assert.throws(
      () => new FasterRcnn({ backbone: "mobilenet_v2", head: "fpn", width: 16, numClasses: 3 }),
      /^Error: width applies to ResNet backbones only, not mobilenet_v2$/,
    );
  });
});
