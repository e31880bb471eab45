// torchvision's operators called by schema name through the dispatcher, against
// torchvision.ops in Python on the same inputs: nms, and roi_align forward and gradient.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { cat, fromArray, manualSeed, rand, randn, type Tensor } from "../../src/tensor/index.js";
import { findVisionOpsLibrary, nms, roiAlign } from "../../src/tensor/ops/visionOps.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

const ref = new TorchRef();
after(() => ref.close());

function randomBoxes(n: number, size: number): Tensor {
  const xy = rand([n, 2]).mul(size * 0.7);
  const wh = rand([n, 2])
    .mul(size * 0.5)
    .add(1);
  return cat([xy, xy.add(wh)], 1);
}

describe("torchvision operators", () => {
  it("finds Debian's library, and KDEP_TORCHVISION_OPS names a missing file clearly", () => {
    assert.match(findVisionOpsLibrary({}), /torchvision\/_C.*\.so$/);
    assert.throws(
      () => findVisionOpsLibrary({ KDEP_TORCHVISION_OPS: "/nonexistent/_C.so" }),
      /KDEP_TORCHVISION_OPS=\/nonexistent\/_C\.so: no such file/,
    );
    assert.throws(
      () => findVisionOpsLibrary({}, ["/nonexistent"]),
      /install Debian's python3-torchvision .*or set KDEP_TORCHVISION_OPS/,
    );
  });

  it("nms keeps the same boxes in the same order as torchvision.ops.nms", async () => {
    manualSeed(3);
    const boxes = randomBoxes(200, 100);
    const scores = rand([200]);
    for (const thr of [0.3, 0.5, 0.7]) {
      const keep = nms(boxes, scores, thr);
      const [want] = await ref.run(
        "import torchvision\nk = torchvision.ops.nms(b, s, t.item())",
        { b: boxes, s: scores, t: fromArray([thr], [1], { dtype: "float64" }) },
        ["k"],
      );
      assert.equal(keep.dtype, "int64");
      assert.deepEqual(keep.toArray(), want.toArray(), `nms at ${thr}`);
      assert.ok(keep.numel > 5 && keep.numel < 200, "a non-trivial selection");
    }
  });

  for (const aligned of [false, true]) {
    it(`roi_align (aligned=${aligned}) forward and input gradient equal torchvision's`, async () => {
      manualSeed(4);
      const x = randn([2, 3, 16, 20]).requiresGrad_(true);
      const boxes = randomBoxes(7, 60);
      const batch = fromArray([0, 1, 0, 1, 1, 0, 1], [7, 1], { dtype: "float32" });
      const rois = cat([batch, boxes], 1);
      const g = randn([7, 3, 5, 4]);
      const y = roiAlign(x, rois, {
        outputSize: [5, 4],
        spatialScale: 0.25,
        samplingRatio: 2,
        aligned,
      });
      y.mul(g).sum().backward();
      const [yRef, gxRef] = await ref.run(
        `import torchvision
y = torchvision.ops.roi_align(x, r, (5, 4), 0.25, 2, ${aligned ? "True" : "False"})
(y * g).sum().backward()
gx = x.grad`,
        { x, r: rois, g },
        ["y", "gx"],
        ["x"],
      );
      assertClose(y, yRef, "roi_align output");
      assertClose(x.grad!, gxRef, "roi_align input gradient");
    });
  }

  it("roi_align adapts its sampling (ratio -1) as torchvision does", async () => {
    manualSeed(5);
    const x = randn([1, 4, 25, 25]);
    const rois = cat([fromArray([0, 0, 0], [3, 1]), randomBoxes(3, 100)], 1);
    const y = roiAlign(x, rois, { outputSize: [7, 7], spatialScale: 1 / 4, aligned: true });
    const [yRef] = await ref.run(
      "import torchvision\ny = torchvision.ops.roi_align(x, r, 7, 0.25, -1, True)",
      { x, r: rois },
      ["y"],
    );
    assertClose(y, yRef, "roi_align, adaptive sampling");
  });
});
