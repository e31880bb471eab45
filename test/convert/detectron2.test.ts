// kdep convert --to detectron2. ResNet: the pickle's names are exactly those of a Detectron2
// ResNet backbone, listed here from Detectron2's naming rules (BasicStem → stem.conv1 with
// .norm; stage t → res{t+1}; blocks' convN with .norm; a projection shortcut where the
// channel count changes), and each value equals the student's tensor that
// tools/convert-torchvision-to-d2.py (re-run in Python) maps there. MobileNetV2: PyTorch
// rebuilds the backbone of KDEP's src/detectron2/.../backbone/mobilev2.py (FrozenBN), loads
// the pickle strictly and must compute what torchvision's mobilenet_v2.features[:18] does.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { convertCheckpoint } from "../../src/pipelines/convert/index.js";
import { requirePython, runPythonJson } from "../helpers/python.js";
import { makeStudent } from "./student.js";

requirePython("torch", "torchvision", "numpy");

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "kdep-convert-d2-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const NORM = ["weight", "bias", "running_mean", "running_var"];
const conv = (name: string) => [`${name}.weight`, ...NORM.map((p) => `${name}.norm.${p}`)];

/** The parameter names of a Detectron2 ResNet backbone (stem + res2…res5). */
function detectron2ResNetNames(blocks: number[], bottleneck: boolean): string[] {
  const names = conv("stem.conv1");
  blocks.forEach((n, i) => {
    const stage = `res${i + 2}`;
    for (let b = 0; b < n; b++) {
      const convs = bottleneck ? [1, 2, 3] : [1, 2];
      for (const c of convs) names.push(...conv(`${stage}.${b}.conv${c}`));
      // res2 of a basic-block net keeps 64 channels: no projection there.
      if (b === 0 && (bottleneck || i > 0)) names.push(...conv(`${stage}.${b}.shortcut`));
    }
  });
  return names;
}

const CHECK_RESNET = `
import json, pickle, sys, numpy as np, torch
student, pkl = sys.argv[1:3]
with open(pkl, "rb") as f:
    d = pickle.load(f)
ref = torch.load(student)
ok = True
for k, v in ref.items():  # the loop of detectron2/tools/convert-torchvision-to-d2.py
    if k.startswith("fc.") or k.endswith("num_batches_tracked"):
        continue
    old_k = k
    if "layer" not in k:
        k = "stem." + k
    for t in [1, 2, 3, 4]:
        k = k.replace("layer{}".format(t), "res{}".format(t + 1))
    for t in [1, 2, 3]:
        k = k.replace("bn{}".format(t), "conv{}.norm".format(t))
    k = k.replace("downsample.0", "shortcut")
    k = k.replace("downsample.1", "shortcut.norm")
    a = d["model"][k]
    ok = ok and isinstance(a, np.ndarray) and a.dtype == np.float32 and np.array_equal(a, v.numpy())
print(json.dumps({"keys": sorted(d["model"]), "values": ok, "author": d["__author__"],
                  "heuristics": d["matching_heuristics"] is True, "top": sorted(d)}))
`;

for (const [arch, blocks, bottleneck] of [
  ["resnet18", [2, 2, 2, 2], false],
  ["resnet50", [3, 4, 6, 3], true],
] as const) {
  test(`${arch} → detectron2: Detectron2's ResNet names, values equal`, () => {
    const s = makeStudent(arch, dir);
    const out = join(dir, `${arch}.pkl`);
    const res = convertCheckpoint({ input: s.path, output: out, to: "detectron2" });
    assert.ok(
      res.renamed.some((r) => r.from === "bn1.weight" && r.to === "stem.conv1.norm.weight"),
    );
    assert.ok(res.dropped.includes("fc.weight"));
    const r = runPythonJson<Record<string, unknown>>(CHECK_RESNET, [s.path, out]);
    assert.deepEqual(r.keys, detectron2ResNetNames([...blocks], bottleneck).sort());
    assert.equal(r.values, true, "float32 ndarrays equal to the student's tensors");
    assert.equal(r.author, "kdep");
    assert.equal(r.heuristics, true);
    assert.deepEqual(r.top, ["__author__", "matching_heuristics", "model"]);
  });
}

const CHECK_MNV2 = `
import json, pickle, sys, torch, torchvision
from torch import nn
student, pkl = sys.argv[1:3]

class FrozenBatchNorm2d(nn.Module):  # detectron2/layers/batch_norm.py
    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.eps = eps
        for b, v in [("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1)]:
            self.register_buffer(b, torch.full((n,), float(v)))
    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        bias = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + bias[None, :, None, None]

def conv(i, o, k, s, g=1):
    return nn.Conv2d(i, o, k, s, k // 2, groups=g, bias=False)

class InvertedResidual(nn.Module):  # KDEP src/detectron2/.../backbone/mobilev2.py
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        h = int(round(inp * t))
        self.res = stride == 1 and inp == oup
        if t == 1:
            self.conv = nn.Sequential(conv(h, h, 3, stride, h), FrozenBatchNorm2d(h), nn.ReLU6(),
                                      conv(h, oup, 1, 1), FrozenBatchNorm2d(oup))
        else:
            self.conv = nn.Sequential(conv(inp, h, 1, 1), FrozenBatchNorm2d(h), nn.ReLU6(),
                                      conv(h, h, 3, stride, h), FrozenBatchNorm2d(h), nn.ReLU6(),
                                      conv(h, oup, 1, 1), FrozenBatchNorm2d(oup))
    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)

features = nn.ModuleList([nn.Sequential(conv(3, 32, 3, 2), FrozenBatchNorm2d(32), nn.ReLU6())])
c = 32
for t, o, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
    for i in range(n):
        features.append(InvertedResidual(c, o, s if i == 0 else 1, t))
        c = o
backbone = nn.Module()
backbone.features = features
with open(pkl, "rb") as f:
    d = pickle.load(f)
backbone.load_state_dict({k: torch.from_numpy(v) for k, v in d["model"].items()}, strict=True)

tv = torchvision.models.mobilenet_v2(num_classes=10)
tv.load_state_dict(torch.load(student))
tv.eval()
x = torch.randn(2, 3, 64, 64)
worst = 0.0
with torch.no_grad():
    a = b = x
    for i in range(18):
        a, b = features[i](a), tv.features[i](b)
        worst = max(worst, ((a - b).norm() / b.norm()).item())
print(json.dumps({"worst": worst, "n": len(d["model"])}))
`;

test("mobilenet_v2 → detectron2: KDEP's MobileNetV2 backbone loads it strictly, same outputs", {}, () => {
  const s = makeStudent("mobilenet_v2", dir);
  const out = join(dir, "mnv2.pkl");
  const res = convertCheckpoint({ input: s.path, output: out, to: "detectron2" });
  // The final 1×1 conv (features.18) and the classifier are not part of that backbone.
  assert.ok(res.dropped.includes("features.18.0.weight"));
  assert.ok(res.dropped.includes("classifier.1.weight"));
  const r = runPythonJson<{ worst: number; n: number }>(CHECK_MNV2, [s.path, out]);
  assert.ok(r.worst < 1e-5, `relative difference ${r.worst}`);
});
