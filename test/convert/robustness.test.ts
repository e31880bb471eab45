// kdep convert --to robustness: the checkpoint the robustness library (and so the KDEP
// reference) restores. PyTorch rebuilds the library's module tree — AttackerModel(normalizer,
// DummyModel(model), Attacker(normalize, same model)) from robustness/attacker.py and
// model_utils.py — and loads our file the way make_and_restore_model does (strip `module.`,
// strict load). Our own reader must give the original back, and so must a round trip.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { isRawTensor, readPth } from "../../src/io/index.js";
import { loadStateDictFile, toRaw } from "../../src/io/tensors.js";
import { convertCheckpoint } from "../../src/pipelines/convert/index.js";
import { requirePython, runPythonJson } from "../helpers/python.js";
import { makeStudent, type Student, sameBytes } from "./student.js";

requirePython("torch", "torchvision");

let dir: string;
let r18: Student;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "kdep-convert-rob-"));
  r18 = makeStudent("resnet18", dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const RESTORE = `
import json, sys, torch, torchvision
from torch import nn
student, path = sys.argv[1:3]

class InputNormalize(nn.Module):  # robustness/tools/helpers.py
    def __init__(self, new_mean, new_std):
        super().__init__()
        self.register_buffer("new_mean", new_mean[..., None, None])
        self.register_buffer("new_std", new_std[..., None, None])
class DummyModel(nn.Module):  # robustness/model_utils.py
    def __init__(self, model):
        super().__init__()
        self.model = model
class Attacker(nn.Module):  # robustness/attacker.py
    def __init__(self, model, mean, std):
        super().__init__()
        self.normalize = InputNormalize(mean, std)
        self.model = model
class AttackerModel(nn.Module):
    def __init__(self, model, mean, std):
        super().__init__()
        self.normalizer = InputNormalize(mean, std)
        self.model = model
        self.attacker = Attacker(model, mean, std)

mean, std = torch.zeros(3), torch.ones(3)
net = DummyModel(torchvision.models.resnet18(num_classes=10))
model = AttackerModel(net, mean, std)
checkpoint = torch.load(path)
sd = checkpoint["model"]
model.load_state_dict({k[len("module."):]: v for k, v in sd.items()})  # strict, as the library does
ref = torch.load(student)
got = net.model.state_dict()
print(json.dumps({
    "keys": list(sd.keys()),
    "shapes": {k: list(v.shape) for k, v in sd.items()},
    "tv": {k: list(v.shape) for k, v in torchvision.models.resnet18(num_classes=10).state_dict().items()},
    "values": all(torch.equal(got[k], ref[k]) for k in ref),
    "attackerShares": all(sd["module.model.model." + k].data_ptr() == sd["module.attacker.model.model." + k].data_ptr() for k in ref),
    "mean": model.normalizer.new_mean.flatten().tolist(),
    "std": model.attacker.normalize.new_std.flatten().tolist(),
    "epoch": checkpoint["epoch"],
    "top": sorted(checkpoint.keys()),
    "ordered": type(sd).__name__,
}))
`;

test("resnet18 → robustness: the library's layout, restored strictly by PyTorch", () => {
  const out = join(dir, "r18.robustness.pt");
  const res = convertCheckpoint({ input: r18.path, output: out, to: "robustness", epoch: 3 });
  assert.equal(res.renamed[0].to, "module.model.model.conv1.weight");
  const r = runPythonJson<{
    keys: string[];
    shapes: Record<string, number[]>;
    tv: Record<string, number[]>;
    values: boolean;
    attackerShares: boolean;
    mean: number[];
    std: number[];
    epoch: number;
    top: string[];
    ordered: string;
  }>(RESTORE, [r18.path, out]);
  // The naming rules: DataParallel `module.`, AttackerModel's normalizer/model/attacker in
  // registration order, DummyModel's `.model`, Attacker's normalize/model.
  const tvKeys = Object.keys(r.tv);
  const expected = [
    "module.normalizer.new_mean",
    "module.normalizer.new_std",
    ...tvKeys.map((k) => `module.model.model.${k}`),
    "module.attacker.normalize.new_mean",
    "module.attacker.normalize.new_std",
    ...tvKeys.map((k) => `module.attacker.model.model.${k}`),
  ];
  assert.deepEqual(r.keys, expected);
  for (const k of tvKeys) {
    assert.deepEqual(r.shapes[`module.model.model.${k}`], r.tv[k], k);
    assert.deepEqual(r.shapes[`module.attacker.model.model.${k}`], r.tv[k], k);
  }
  for (const k of expected.filter((k) => /normali[sz]e/.test(k))) {
    assert.deepEqual(r.shapes[k], [3, 1, 1], k);
  }
  assert.equal(r.values, true, "restored weights equal the student's");
  assert.equal(r.attackerShares, true, "attacker copy shares storage, as torch.save of the model");
  const close = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-7);
  assert.ok(close(r.mean, [0.485, 0.456, 0.406]), `mean ${r.mean}`);
  assert.ok(close(r.std, [0.229, 0.224, 0.225]), `std ${r.std}`);
  assert.equal(r.epoch, 3);
  assert.deepEqual(r.top, ["epoch", "model"]);
  assert.equal(r.ordered, "OrderedDict");

  // Our io strips it back to the student.
  const back = loadStateDictFile(out);
  assert.deepEqual([...back.stateDict.keys()], [...r18.tensors.keys()]);
  for (const [k, t] of back.stateDict) {
    assert.ok(sameBytes(toRaw(t), r18.tensors.get(k)!), k);
    t.dispose();
  }
  assert.ok(back.report.some((l) => l.includes("stripped prefix module.model.model.")));
});

for (const arch of ["resnet18", "mobilenet_v2"]) {
  test(`${arch}: robustness → torchvision round trip gives identical tensors`, () => {
    const s = arch === "resnet18" ? r18 : makeStudent(arch, dir);
    const rob = join(dir, `${arch}.rob.pt`);
    const tv = join(dir, `${arch}.back.pth`);
    const there = convertCheckpoint({ input: s.path, output: rob, to: "robustness" });
    if (arch === "mobilenet_v2") {
      // The KDEP reference's MobileNetV2 (src/mobilenet.py) keys, under the same wrappers.
      assert.ok(there.renamed.some((x) => x.to === "module.model.model.conv.0.weight"));
      assert.ok(there.renamed.some((x) => x.to === "module.model.model.classifier.weight"));
    }
    const back = convertCheckpoint({ input: rob, output: tv, to: "torchvision" });
    assert.ok(back.unwrapped.some((l) => l.includes("stripped prefix module.model.model.")));
    const sd = readPth(tv) as Map<string, unknown>;
    assert.deepEqual([...sd.keys()], [...s.tensors.keys()]);
    for (const [k, t] of sd) {
      assert.ok(isRawTensor(t) && sameBytes(t, s.tensors.get(k)!), k);
    }
  });
}
