// Faster R-CNN against torchvision 0.14's FasterRCNN built in Python with the same weights:
// eval detections on two images of different sizes (boxes, scores, labels, order), and the
// four training losses. Sampling is made deterministic by seeding both sides' global
// generator identically before the training forward: the libtorch is the same, and our
// transform and samplers draw from it in torchvision's order (one uniform per image for the
// size choice, then randperm for positives and negatives per image, RPN then RoI heads).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FasterRcnn } from "../../../src/models/detection/fasterRcnn.js";
import { fromArray, manualSeed, rand, stack, type Tensor } from "../../../src/tensor/index.js";
import { runPythonJson } from "../../helpers/python.js";
import { assertClose, TorchRef } from "../../helpers/torchRef.js";
import { runWithDicts } from "../refState.js";

const ref = new TorchRef();
after(() => ref.close());

const FPN_BUILD = `
r = torchvision.models.resnet18()
bb = torchvision.models.detection.backbone_utils._resnet_fpn_extractor(r, 5)
m = torchvision.models.detection.FasterRCNN(bb, num_classes=5, min_size=160, max_size=256)
`;

const C4_BUILD = `
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
r = torchvision.models.resnet18()
del r.fc
class Trunk(nn.Module):
    def __init__(s, r):
        super().__init__(); s.body = r; s.out_channels = 256
    def forward(s, x):
        b = s.body
        x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        return b.layer3(b.layer2(b.layer1(x)))
class Pool(nn.Module):
    def forward(s, features, proposals, image_shapes):
        return torchvision.ops.roi_align(features["0"], proposals, 14, 1 / 16, 0, True)
class Res5(nn.Module):
    def __init__(s, l4):
        super().__init__(); s.l4 = [l4]
    def forward(s, x):
        return s.l4[0](x).mean((2, 3))
ag = AnchorGenerator(((32, 64, 128, 256, 512),), ((0.5, 1.0, 2.0),))
m = torchvision.models.detection.FasterRCNN(Trunk(r), min_size=160, max_size=256,
    rpn_anchor_generator=ag, box_head=Res5(r.layer4), box_predictor=FastRCNNPredictor(512, 5))
m.roi_heads.box_roi_pool = Pool()  # the constructor accepts only MultiScaleRoIAlign
`;

const MOBILENET_BUILD = `
from torchvision.models.detection.backbone_utils import BackboneWithFPN
f = torchvision.models.mobilenet_v2().features[:18]
bb = BackboneWithFPN(f, {"3": "0", "6": "1", "13": "2", "17": "3"}, [24, 32, 96, 320], 256)
m = torchvision.models.detection.FasterRCNN(bb, num_classes=5, min_size=160, max_size=256)
`;

const BUILDS = { fpn: FPN_BUILD, c4: C4_BUILD, mobilenet: MOBILENET_BUILD };

// Spread the random heads' outputs so scores are far from ties and boxes move.
const RUN = `
torch.manual_seed(0)
randomize_bn(m)
with torch.no_grad():
    for p in m.rpn.head.parameters(): p.normal_(0, 0.05)
    for p in m.roi_heads.box_predictor.parameters(): p.normal_(0, 0.05)
sd0 = sd_copy(m)
m.eval()
with torch.no_grad():
    d = m([im1, im2])
b1, s1, l1 = d[0]["boxes"], d[0]["scores"], d[0]["labels"]
b2, s2, l2 = d[1]["boxes"], d[1]["scores"], d[1]["labels"]
m.train()
torch.manual_seed(7)
L = m([im1, im2], [{"boxes": t1, "labels": y1}, {"boxes": t2, "labels": y2}])
lo = torch.stack([L["loss_objectness"], L["loss_rpn_box_reg"], L["loss_classifier"], L["loss_box_reg"]])
`;

function boxes(rows: number[][]): Tensor {
  return fromArray(rows.flat(), [rows.length, 4], { dtype: "float32" });
}

for (const kind of ["fpn", "c4", "mobilenet"] as const) {
  const head = kind === "c4" ? "c4" : "fpn";
  const backbone = kind === "mobilenet" ? "mobilenet_v2" : "resnet18";
  describe(`Faster R-CNN ${backbone}-${head.toUpperCase()} against torchvision's FasterRCNN`, () => {
    it("same state-dict keys, eval detections and training losses", async () => {
      manualSeed(11);
      const im1 = rand([3, 150, 200]);
      const im2 = rand([3, 180, 120]);
      const t1 = boxes([
        [10, 20, 90, 100],
        [100, 40, 190, 140],
        [30, 60, 70, 90],
      ]);
      const t2 = boxes([
        [5, 5, 100, 80],
        [20, 90, 110, 170],
      ]);
      const y1 = fromArray([1, 3, 4], [3], { dtype: "int64" });
      const y2 = fromArray([2, 2], [2], { dtype: "int64" });
      const { dicts, outputs } = await runWithDicts(
        ref,
        BUILDS[kind] + RUN,
        { im1, im2, t1, t2, y1, y2 },
        ["sd0"],
        ["b1", "s1", "l1", "b2", "s2", "l2", "lo"],
      );
      const [sd0] = dicts;
      const [b1, s1, l1, b2, s2, l2, lo] = outputs;
      const model = new FasterRcnn({
        backbone,
        head,
        numClasses: 5,
        transform: { minSize: 160, maxSize: 256 },
      });
      assert.deepEqual(
        [...model.stateDict().keys()].sort(),
        [...sd0.keys()].sort(),
        "state-dict keys",
      );
      model.loadStateDict(sd0, { strict: true });

      model.eval();
      const dets = model.detect([im1, im2]);
      const want = [
        [b1, s1, l1],
        [b2, s2, l2],
      ];
      dets.forEach((d, i) => {
        const [wb, ws, wl] = want[i];
        assert.ok(wb.size(0) > 5, `image ${i}: a non-trivial number of detections`);
        assert.deepEqual(d.labels.toArray(), wl.toArray(), `image ${i}: labels in order`);
        assertClose(d.boxes, wb, `image ${i}: boxes`, 1e-4, 1e-3);
        assertClose(d.scores, ws, `image ${i}: scores`, 1e-4, 1e-6);
      });

      model.train();
      manualSeed(7);
      const l = model.losses(
        [im1, im2],
        [
          { boxes: t1, labels: y1 },
          { boxes: t2, labels: y2 },
        ],
      );
      const ours = stack([l.lossObjectness, l.lossRpnBoxReg, l.lossClassifier, l.lossBoxReg]);
      assertClose(ours, lo, "losses (objectness, rpn box, classifier, box reg)", 1e-4, 1e-6);
      for (const v of ours.toArray()) assert.ok(v > 0, "every loss is positive");
    });
  });
}

describe("Faster R-CNN R50-FPN layout", () => {
  it("state-dict keys and shapes equal torchvision's fasterrcnn_resnet50_fpn", () => {
    const want = runPythonJson<[string, number[]][]>(`
import json, torch, torchvision
m = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91)
print(json.dumps([[k, list(v.shape)] for k, v in m.state_dict().items()]))`);
    const ours = new FasterRcnn({ backbone: "resnet50", head: "fpn", numClasses: 91 });
    const got = [...ours.stateDict()].map(([k, v]) => [k, v.shape] as [string, number[]]);
    const sort = (a: [string, number[]][]) => [...a].sort((x, y) => (x[0] < y[0] ? -1 : 1));
    assert.deepEqual(sort(got), sort(want));
  });
});
