// .pth reading against torch.save (zip and legacy formats) and writing for torch.load.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadCheckpoint } from "../../src/io/index.js";
import { PyFloat, PyOrderedDict, PyTuple } from "../../src/io/pickle/values.js";
import { extractStateDict } from "../../src/io/prefixes.js";
import { readPth, writePth } from "../../src/io/pth.js";
import type { RawTensor } from "../../src/io/rawTensor.js";
import { requirePython, runPythonFile, runPythonJson } from "../helpers/python.js";
import { canon, fixture } from "./canon.js";

requirePython("torch", "torchvision", "numpy");

describe("pth", () => {
  let dir = "";
  let expected: Record<string, unknown> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kdep-pth-"));
    runPythonFile(fixture("make_pth.py"), [dir]);
    expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of [
    "resnet18.pth",
    "resnet18_legacy.pth",
    "views.pth",
    "views_legacy.pth",
    "dtypes.pth",
    "dtypes_legacy.pth",
    "nested.pth",
    "nested_legacy.pth",
  ]) {
    test(`reads ${name} exactly as torch.load does`, () => {
      assert.deepEqual(canon(readPth(join(dir, name))), expected[name]);
    });
  }

  test("keeps an OrderedDict's _metadata and dispatches on content", () => {
    const sd = readPth(join(dir, "resnet18.pth"));
    assert.ok(sd instanceof PyOrderedDict);
    assert.ok(sd.attrs.get("_metadata") instanceof PyOrderedDict);
    // Content, not extension, decides the reader.
    const renamed = join(dir, "weights.bin");
    writeFileSync(renamed, readFileSync(join(dir, "resnet18_legacy.pth")));
    assert.equal(loadCheckpoint(renamed).format, "pth-legacy");
    assert.equal(loadCheckpoint(join(dir, "resnet18.pth")).format, "pth-zip");
  });

  test("extracts the bare state dict from a KDEP checkpoint", () => {
    const r = extractStateDict(readPth(join(dir, "nested.pth")));
    assert.deepEqual(r.path, ["model"]);
    assert.deepEqual(
      [...r.stateDict.keys()],
      [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
      ],
    );
    assert.ok(r.report.some((l) => l.includes("stripped prefix module.model.model.")));
  });

  test("writePth output loads in torchvision resnet18 (strict) with equal values", () => {
    const out = join(dir, "out_resnet18.pth");
    writePth(out, readPth(join(dir, "resnet18.pth")));
    const res = runPythonJson<{ ok: boolean; meta: boolean; aligned: boolean }>(
      `
import sys, json, zipfile, struct, torch, torchvision
sd = torch.load(sys.argv[1]); ref = torch.load(sys.argv[2])
m = torchvision.models.resnet18(); m.load_state_dict(sd, strict=True)
ok = list(sd.keys()) == list(ref.keys()) and all(torch.equal(sd[k], ref[k]) and sd[k].dtype == ref[k].dtype for k in ref)
raw = open(sys.argv[1], 'rb').read(); aligned = True
for i in zipfile.ZipFile(sys.argv[1]).infolist():
    n, e = struct.unpack('<HH', raw[i.header_offset + 26:i.header_offset + 30])
    if '/data/' in i.filename: aligned &= (i.header_offset + 30 + n + e) % 64 == 0
print(json.dumps({"ok": ok, "meta": hasattr(sd, "_metadata"), "aligned": aligned}))`,
      [out, join(dir, "resnet18.pth")],
    );
    assert.deepEqual(res, { ok: true, meta: true, aligned: true });
  });

  test("writePth writes nested checkpoints torch.load reads back exactly", () => {
    const f32 = (vals: number[], shape: number[]): RawTensor => ({
      dtype: "float32",
      shape,
      data: new Uint8Array(Float32Array.from(vals).buffer),
    });
    const shared = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const bf16: RawTensor = {
      dtype: "bfloat16",
      shape: [2],
      data: Uint8Array.from([0x80, 0x3f, 0x00, 0xc0]),
    };
    const ckpt = {
      model: new Map<string, unknown>([
        ["w", shared],
        ["w_again", shared],
        ["b", bf16],
        ["n", { dtype: "int64", shape: [], data: new Uint8Array(8).fill(0xff) }],
        ["mask", { dtype: "bool", shape: [3], data: Uint8Array.from([1, 0, 1]) }],
      ]),
      epoch: 12,
      lr: 0.05,
      momentum: new PyFloat(1),
      big: 2n ** 70n,
      neg: -(2 ** 40),
      name: "résumé",
      flags: [true, false, null],
      pair: new PyTuple([1, "a", 2.5, new Uint8Array([0, 255])]),
    };
    const out = join(dir, "out_nested.pth");
    writePth(out, ckpt);
    const got = runPythonJson<Record<string, unknown>>(
      `
import sys, os, json, torch
sys.path.insert(0, os.path.dirname(sys.argv[2]))
from canon import canon
c = torch.load(sys.argv[1])
print(json.dumps({"canon": canon(c), "shared": c["model"]["w"].data_ptr() == c["model"]["w_again"].data_ptr(),
  "float": type(c["momentum"]).__name__}))`,
      [out, fixture("canon.py")],
    );
    assert.deepEqual(got.canon, canon(new Map(Object.entries(ckpt))));
    assert.equal(got.shared, true);
    assert.equal(got.float, "float");
    // And kdep reads its own output back.
    assert.deepEqual(canon(readPth(out)), got.canon);
  });
});
