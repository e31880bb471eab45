// The options of the zoo against torchvision models patched in Python the way the option is
// defined: pre-ReLU feature, dilation (torchvision and semseg styles), named feature maps,
// seeded init, channels-last, and the KDEP/tonylins MobileNetV2 key maps.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  createModel,
  featureDim,
  fromReferenceKeys,
  listModels,
  type ModelOptions,
  toReferenceKeys,
} from "../../src/models/index.js";
import { manualSeed, noGrad, randn, type Tensor } from "../../src/tensor/index.js";
import { TorchRef } from "../helpers/torchRef.js";
import { assertRel, runWithDicts } from "./refState.js";

const ref = new TorchRef();
after(() => ref.close());

const input = () => {
  manualSeed(3);
  return randn([2, 3, 64, 64]);
};

/** Builds `build` in Python (seeded, BN randomised), applies `patch`, and returns its state
 * with the eval-mode values of the expressions in `outputs` on input x. */
async function reference(build: string, patch: string, x: Tensor, outputs: string[]) {
  const code = `
torch.manual_seed(0)
m = randomize_bn(${build}).eval()
sd = sd_copy(m)
${patch}
with torch.no_grad():
${outputs.map((o, i) => `    _o${i} = ${o}`).join("\n")}
`;
  const r = await runWithDicts(
    ref,
    code,
    { x },
    ["sd"],
    outputs.map((_, i) => `_o${i}`),
  );
  return { sd: r.dicts[0], outs: r.outputs };
}

function ours(name: string, sd: Map<string, Tensor>, opts: ModelOptions = {}) {
  const m = createModel(name, opts);
  m.loadStateDict(sd, { strict: true });
  return m.eval();
}

const BASIC_PRE_RELU = `
def _pre_relu(self, x):
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    return out + (self.downsample(x) if self.downsample is not None else x)
m.layer4[-1].forward = _types.MethodType(_pre_relu, m.layer4[-1])
m.fc = nn.Identity()
`;
const BOTTLENECK_PRE_RELU = `
def _pre_relu(self, x):
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.relu(self.bn2(self.conv2(out)))
    out = self.bn3(self.conv3(out))
    return out + (self.downsample(x) if self.downsample is not None else x)
m.layer4[-1].forward = _types.MethodType(_pre_relu, m.layer4[-1])
m.fc = nn.Identity()
`;

// Dilation of ResNet-18 (torchvision refuses to dilate BasicBlock): "torchvision" style is
// timm's rule, "semseg" is the loop of KDEP's src/semseg/model/pspnet.py for layers == 18.
const dilateR18 = (style: string) => `
for li, d, prev in ((3, 2, 1), (4, 4, 2)):
    for bi, blk in enumerate(getattr(m, f"layer{li}")):
        if bi == 0:
            blk.conv1.stride = (1, 1); blk.downsample[0].stride = (1, 1)
        d1 = 1 if "${style}" == "semseg" else (prev if bi == 0 else d)
        blk.conv1.dilation = blk.conv1.padding = (d1, d1)
        blk.conv2.dilation = blk.conv2.padding = (d, d)
`;
const BODY = "nn.Sequential(*list(m.children())[:-2])(x)";

describe("model options against patched torchvision models", () => {
  it("preReluFeature: the pooled feature skips the last ReLU / ReLU6 (and can be put back)", async () => {
    const x = input();
    const cases: [string, string, string][] = [
      ["resnet18", "torchvision.models.resnet18()", BASIC_PRE_RELU],
      ["resnet50", "torchvision.models.resnet50()", BOTTLENECK_PRE_RELU],
      [
        "mobilenet_v2",
        "torchvision.models.mobilenet_v2()",
        "m.features[-1][2] = nn.Identity()\nm.classifier = nn.Identity()",
      ],
    ];
    for (const [name, build, patch] of cases) {
      const { sd, outs } = await reference(build, patch, x, ["m(x)"]);
      const m = ours(name, sd, { preReluFeature: true });
      assert.equal(m.preReluFeature, true);
      const f = noGrad(() => m.forwardHead(m.forwardFeatures(x), { preLogits: true }));
      assert.deepEqual(f.shape, [2, featureDim(name)]);
      assertRel(f, outs[0], `${name} pre-ReLU feature`);
      assert.ok(noGrad(() => f.min().item()) < 0, `${name}: the pre-ReLU feature has negatives`);
      m.preReluFeature = false;
      const g = noGrad(() => m.forwardHead(m.forwardFeatures(x), { preLogits: true }));
      assert.ok(noGrad(() => g.min().item()) >= 0, `${name}: ReLU put back`);
      m.dispose();
    }
  });

  it("replaceStrideWithDilation: resnet50 equals torchvision's, output stride 8", async () => {
    const x = input();
    const { sd, outs } = await reference(
      "torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True])",
      "",
      x,
      [BODY],
    );
    const m = ours("resnet50", sd, { replaceStrideWithDilation: [false, true, true] });
    const y = noGrad(() => m.forwardFeatures(x));
    assert.deepEqual(y.shape, [2, 2048, 8, 8]);
    assertRel(y, outs[0], "resnet50 dilated layer4");
    assert.deepEqual(
      m.featureInfo.map((f) => f.stride),
      [2, 4, 8, 8, 8],
    );
    m.dispose();
  });

  for (const style of ["torchvision", "semseg"] as const) {
    it(`replaceStrideWithDilation: resnet18, ${style} style`, async () => {
      const x = input();
      const { sd, outs } = await reference("torchvision.models.resnet18()", dilateR18(style), x, [
        BODY,
      ]);
      const m = ours("resnet18", sd, {
        replaceStrideWithDilation: [false, true, true],
        dilationStyle: style,
      });
      const y = noGrad(() => m.forwardFeatures(x));
      assert.deepEqual(y.shape, [2, 512, 8, 8]);
      assertRel(y, outs[0], `resnet18 dilated (${style})`);
      m.dispose();
    });
  }

  it("features(): named maps equal torchvision's intermediates, shapes match featureInfo", async () => {
    const x = input();
    const r18 = await reference("torchvision.models.resnet18()", "", x, [
      "m.relu(m.bn1(m.conv1(x)))",
      "m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x)))))",
      "nn.Sequential(*list(m.children())[:-4])(x)",
      "nn.Sequential(*list(m.children())[:-3])(x)",
      BODY,
      "torch.flatten(m.avgpool(" + BODY + "), 1)",
    ]);
    const mv2 = await reference(
      "torchvision.models.mobilenet_v2()",
      "",
      x,
      [2, 4, 7, 14, 18, 19].map((i) => `m.features[:${i}](x)`),
    );
    for (const [name, { sd, outs }, keys] of [
      ["resnet18", r18, ["stem", "layer1", "layer2", "layer3", "layer4", "pooled"]],
      ["mobilenet_v2", mv2, ["stem", "layer1", "layer2", "layer3", "lastBlock", "layer4"]],
    ] as const) {
      const m = ours(name, sd);
      const maps = noGrad(() => m.features(x));
      keys.forEach((k, i) => {
        assertRel(maps[k], outs[i], `${name} features().${k}`);
      });
      for (const f of m.featureInfo) {
        assert.deepEqual(
          maps[f.name].shape,
          [2, f.channels, 64 / f.stride, 64 / f.stride],
          `${name} ${f.name}`,
        );
      }
      assert.deepEqual(maps.pooled.shape, [2, m.featureDim]);
      for (const t of Object.values(maps)) t.dispose();
      m.dispose();
    }
  });

  it("init: with the same seed the fresh weights equal torchvision's exactly", async () => {
    for (const [name, build] of [
      ["resnet18", "torchvision.models.resnet18()"],
      ["resnet50", "torchvision.models.resnet50(zero_init_residual=True)"],
      ["mobilenet_v2", "torchvision.models.mobilenet_v2()"],
    ] as const) {
      const r = await runWithDicts(ref, `torch.manual_seed(7)\nm = ${build}`, {}, [
        "m.state_dict()",
      ]);
      manualSeed(7);
      const m = createModel(name, name === "resnet50" ? { zeroInitResidual: true } : {});
      const sd = m.stateDict();
      assert.deepEqual([...sd.keys()], [...r.dicts[0].keys()]);
      for (const [k, v] of r.dicts[0]) {
        const a = sd.get(k)!.toBytes();
        assert.ok(Buffer.from(a).equals(Buffer.from(v.toBytes())), `${name} ${k} differs`);
        v.dispose();
      }
      m.dispose();
    }
  });

  it("channelsLast: NHWC weights and activations give the same logits and gradients", () => {
    manualSeed(11);
    const a = createModel("resnet18", { numClasses: 10 });
    const b = createModel("resnet18", { numClasses: 10, channelsLast: true });
    b.loadStateDict(a.stateDict());
    assert.ok(b.getModule("conv1")!.getParameter("weight")!.isContiguous("channelsLast"));
    // Eval mode: a training-mode BN nearly cancels a gradient, leaving rounding noise.
    a.eval();
    b.eval();
    const x = input();
    const g = randn([2, 10]);
    const ya = a.forward(x);
    const yb = b.forward(x);
    assertRel(yb, ya, "channels-last logits", 1e-4);
    ya.mul(g).sum().backward();
    yb.mul(g).sum().backward();
    const ga = a.getModule("conv1")!.getParameter("weight")!.grad!;
    const gb = b.getModule("conv1")!.getParameter("weight")!.grad!;
    assertRel(gb, ga, "channels-last conv1 gradient", 1e-3);
    a.dispose();
    b.dispose();
  });
});

// The KDEP reference's MobileNetV2 (CVMI-Lab/KDEP src/mobilenet.py: last 1×1 conv as
// top-level `conv`) and tonylins' (as features.18), rebuilt here from their layouts.
const REFERENCE_MNV2 = (layout: string) => `
def _cbr(i, o, k, s):
    return nn.Sequential(nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU6(inplace=True))
class _IR(nn.Module):
    def __init__(self, i, o, st, t):
        super().__init__()
        h = round(i * t)
        self.res = st == 1 and i == o
        pw = [] if t == 1 else [nn.Conv2d(i, h, 1, 1, 0, bias=False), nn.BatchNorm2d(h), nn.ReLU6(inplace=True)]
        self.conv = nn.Sequential(*pw, nn.Conv2d(h, h, 3, st, 1, groups=h, bias=False), nn.BatchNorm2d(h),
                                  nn.ReLU6(inplace=True), nn.Conv2d(h, o, 1, 1, 0, bias=False), nn.BatchNorm2d(o))
    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)
class _Ref(nn.Module):
    def __init__(self, kdep):
        super().__init__()
        feats, c = [_cbr(3, 32, 3, 2)], 32
        for t, o, n, s in [[1,16,1,1],[6,24,2,2],[6,32,3,2],[6,64,4,2],[6,96,3,1],[6,160,3,2],[6,320,1,1]]:
            for i in range(n):
                feats.append(_IR(c, o, s if i == 0 else 1, t)); c = o
        if not kdep: feats.append(_cbr(c, 1280, 1, 1))
        self.features = nn.Sequential(*feats)
        if kdep: self.conv = _cbr(c, 1280, 1, 1)
        self.kdep = kdep
        self.classifier = nn.Linear(1280, 1000)
    def forward(self, x):
        x = self.features(x)
        if self.kdep: x = self.conv(x)
        return self.classifier(x.mean([2, 3]))
torch.manual_seed(0)
m = randomize_bn(_Ref(${layout === "kdep" ? "True" : "False"})).eval()
with torch.no_grad():
    y = m(x)
`;

describe("MobileNetV2 reference key maps", () => {
  for (const layout of ["kdep", "tonylins"] as const) {
    it(`${layout} layout: maps to torchvision keys, loads strictly, same logits, round-trips`, async () => {
      const x = input();
      const r = await runWithDicts(ref, REFERENCE_MNV2(layout), { x }, ["m.state_dict()"], ["y"]);
      const refSd = r.dicts[0];
      const tv = fromReferenceKeys(refSd, layout);
      const m = createModel("mobilenet_v2");
      assert.deepEqual([...tv.keys()], [...m.stateDict().keys()], "mapped keys in our order");
      m.loadStateDict(tv, { strict: true });
      m.eval();
      const y = noGrad(() => m.forward(x));
      assertRel(y, r.outputs[0], `${layout} logits`);
      const back = toReferenceKeys(m.stateDict(), layout);
      assert.deepEqual([...back.keys()], [...refSd.keys()], "round trip keys and order");
      for (const [k, v] of back) assert.deepEqual(v.shape, refSd.get(k)!.shape, k);
      for (const v of refSd.values()) v.dispose();
      m.dispose();
    });
  }
});

describe("registry", () => {
  it("lists the zoo with feature dims and refuses unknown names and options", () => {
    assert.deepEqual(
      listModels().map((m) => [m.name, m.featureDim]),
      [
        ["resnet18", 512],
        ["resnet34", 512],
        ["resnet50", 2048],
        ["resnet101", 2048],
        ["resnet152", 2048],
        ["mobilenet_v2", 1280],
      ],
    );
    assert.throws(() => createModel("resnet19"), /Unknown model "resnet19"/);
    assert.throws(
      () => createModel("mobilenet_v2", { zeroInitResidual: true }),
      /Unknown option "zeroInitResidual"/,
    );
    const m = createModel("resnet18", { numClasses: 0 });
    assert.equal(m.numClasses, 0);
    assert.ok(![...m.stateDict().keys()].some((k) => k.startsWith("fc")));
    const y = noGrad(() => m.forward(randn([1, 3, 32, 48])));
    assert.deepEqual(y.shape, [1, 512], "no head: forward returns the pooled feature");
    m.resetClassifier(7);
    assert.deepEqual(m.stateDict().get("fc.weight")!.shape, [7, 512]);
    m.resetClassifier(0);
    assert.ok(![...m.stateDict().keys()].some((k) => k.startsWith("fc")));
    m.dispose();
  });
});
