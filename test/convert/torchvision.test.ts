// kdep convert --to torchvision / safetensors / semseg, checked in PyTorch: torchvision's own
// models load the output strictly and hold our values; the safetensors header is parsed by
// hand (the safetensors package is not installed).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { convertCheckpoint } from "../../src/pipelines/convert/index.js";
import { requirePython, runPythonJson } from "../helpers/python.js";
import { makeStudent, type Student } from "./student.js";

requirePython("torch", "torchvision", "numpy");

let dir: string;
let r18: Student;
let mnv2: Student;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "kdep-convert-tv-"));
  r18 = makeStudent("resnet18", dir);
  mnv2 = makeStudent("mobilenet_v2", dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const CHECK = `
import json, struct, sys, numpy as np, torch, torchvision
student, arch, tv, headless, st, semseg = sys.argv[1:7]
ref = torch.load(student)
out = {}
def strict(path, drop_head):
    m = getattr(torchvision.models, arch)(num_classes=10)
    sd = torch.load(path)
    if drop_head:
        head = [k for k in m.state_dict() if k.startswith(("fc.", "classifier."))]
        assert not any(k in sd for k in head), "head present"
        sd = {**sd, **{k: m.state_dict()[k] for k in head}}
    m.load_state_dict(sd, strict=True)
    got = m.state_dict()
    return all(torch.equal(got[k], ref[k]) for k in ref if drop_head is False or k in sd and not k.startswith(("fc.", "classifier.")))
def semseg_mnv2_matches(sem, ref):
    # KDEP's semseg MobileNetV2, written here from its layout: flat conv Sequentials with the
    # ReLU6s inside, the last 1x1 conv outside \`features\` as \`conv\`. It must load the file
    # (only the classifier absent) and compute what torchvision's features compute.
    nn = torch.nn
    def cbr(i, o, k, s, g=1):
        return [nn.Conv2d(i, o, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(o), nn.ReLU6()]
    class Block(nn.Module):
        def __init__(self, i, o, s, t):
            super().__init__()
            h = i * t
            self.res = s == 1 and i == o
            layers = [] if t == 1 else cbr(i, h, 1, 1)
            layers += cbr(h, h, 3, s, h) + [nn.Conv2d(h, o, 1, bias=False), nn.BatchNorm2d(o)]
            self.conv = nn.Sequential(*layers)
        def forward(self, x):
            return x + self.conv(x) if self.res else self.conv(x)
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            feats, c = [nn.Sequential(*cbr(3, 32, 3, 2))], 32
            for t, o, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                               [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
                for j in range(n):
                    feats.append(Block(c, o, s if j == 0 else 1, t))
                    c = o
            self.features = nn.Sequential(*feats)
            self.conv = nn.Sequential(*cbr(c, 1280, 1, 1))
    net = Net()
    r = net.load_state_dict(sem, strict=False)
    if r.unexpected_keys or r.missing_keys:
        return {"missing": r.missing_keys[:5], "unexpected": r.unexpected_keys[:5]}
    tvm = torchvision.models.mobilenet_v2(num_classes=10)
    tvm.load_state_dict(ref)
    net.eval(); tvm.eval()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = net.conv(net.features(x)), tvm.features(x)
    return bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5)) and a.abs().sum().item() > 0
out["strict"] = strict(tv, False)
out["headless"] = strict(headless, True)
out["tvKeys"] = list(torch.load(tv).keys()) == list(ref.keys())
# safetensors by hand: u64 header length, JSON header, raw little-endian data.
raw = open(st, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
header.pop("__metadata__", None)
body = raw[8 + n:]
NP = {"F32": np.float32, "I64": np.int64}
ok = list(header) == list(ref)
for k, h in header.items():
    a, b = h["data_offsets"]
    arr = np.frombuffer(body[a:b], dtype=NP[h["dtype"]]).reshape(h["shape"])
    ok = ok and np.array_equal(arr, ref[k].numpy()) and arr.dtype == ref[k].numpy().dtype
out["safetensors"] = ok
sem = torch.load(semseg)
out["semsegKeys"] = list(sem.keys())
if arch == "resnet18":
    # hszhao/semseg's ResNet uses torchvision's names.
    out["semsegValues"] = all(torch.equal(v, ref[k]) for k, v in sem.items())
else:
    out["semsegValues"] = semseg_mnv2_matches(sem, ref)
print(json.dumps(out))
`;

for (const arch of ["resnet18", "mobilenet_v2"]) {
  test(`${arch}: torchvision, --drop-head, safetensors and semseg outputs`, () => {
    const s = arch === "resnet18" ? r18 : mnv2;
    const out = (name: string) => join(dir, `${arch}.${name}`);
    const tv = convertCheckpoint({ input: s.path, output: out("tv.pth"), to: "torchvision" });
    assert.equal(tv.arch, arch);
    assert.deepEqual(tv.renamed, []);
    const headless = convertCheckpoint({
      input: s.path,
      output: out("headless.pth"),
      to: "torchvision",
      dropHead: true,
    });
    const head =
      arch === "resnet18" ? ["fc.weight", "fc.bias"] : ["classifier.1.weight", "classifier.1.bias"];
    assert.deepEqual(headless.dropped, head);
    convertCheckpoint({ input: s.path, output: out("safetensors"), to: "safetensors" });
    const sem = convertCheckpoint({ input: s.path, output: out("semseg.pth"), to: "semseg" });
    assert.deepEqual(sem.dropped, head);

    const r = runPythonJson<Record<string, unknown>>(CHECK, [
      s.path,
      arch,
      out("tv.pth"),
      out("headless.pth"),
      out("safetensors"),
      out("semseg.pth"),
    ]);
    assert.equal(r.strict, true, "torchvision strict load, values equal");
    assert.equal(r.tvKeys, true, "key order kept");
    assert.equal(r.headless, true, "--drop-head output");
    assert.equal(r.safetensors, true, "safetensors keys and values");
    assert.equal(r.semsegValues, true, `semseg values: ${JSON.stringify(r.semsegValues)}`);
    const semKeys = r.semsegKeys as string[];
    if (arch === "resnet18") {
      // hszhao/semseg's ResNet: torchvision keys, fc unused.
      assert.deepEqual(
        semKeys,
        [...s.tensors.keys()].filter((k) => !k.startsWith("fc.")),
      );
    } else {
      // KDEP's semseg MobileNetV2 (src/semseg/model/mobilev2.py) has the reference layout.
      assert.ok(semKeys.includes("conv.0.weight") && semKeys.includes("features.2.conv.7.weight"));
      assert.ok(!semKeys.some((k) => k.startsWith("classifier")));
      assert.equal(semKeys.length, s.tensors.size - 2);
    }
  });
}
