// MobileNetV2 at width multipliers other than 1.0: the multiplier is read from the
// checkpoint's shapes for `kdep convert` (torchvision's own save and kdep's) and for loading
// `--weights` (createModelWithWeights, used by transfer and the teacher loader), or stated
// with --width-mult. Checked against torchvision's mobilenet_v2(width_mult=…).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { saveStateDict } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/index.js";
import { createModelWithWeights } from "../../src/models/weights.js";
import { inferWidthMult } from "../../src/models/widthFromWeights.js";
import { convertCheckpoint } from "../../src/pipelines/convert/index.js";
import * as T from "../../src/tensor/index.js";
import { runCli } from "../helpers/cli.js";
import { requirePython, runPython, runPythonJson } from "../helpers/python.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

requirePython("torch", "torchvision");

let dir = "";
let tv075 = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "kdep-widthmult-"));
  tv075 = join(dir, "tv075.pth");
  runPython(
    `import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.mobilenet_v2(width_mult=0.75, num_classes=10)
for b in m.modules():
    if isinstance(b, torch.nn.BatchNorm2d):
        with torch.no_grad():
            b.running_mean.normal_(0, 0.1); b.running_var.uniform_(0.5, 1.5); b.weight.uniform_(0.5, 1.5)
torch.save(m.state_dict(), sys.argv[1])`,
    [tv075],
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const CHECK_STRICT = `
import sys, json, torch, torchvision
m = torchvision.models.mobilenet_v2(width_mult=float(sys.argv[3]), num_classes=10)
m.load_state_dict(torch.load(sys.argv[2]), strict=True)
ref = torch.load(sys.argv[1])
print(json.dumps(all(torch.equal(m.state_dict()[k], v) for k, v in ref.items())))
`;

test("convert --to torchvision: torchvision's width 0.75 save, and kdep's own", () => {
  const out = join(dir, "out.pth");
  const r = convertCheckpoint({ input: tv075, output: out, to: "torchvision" });
  assert.equal(r.arch, "mobilenet_v2");
  assert.equal(runPythonJson(CHECK_STRICT, [tv075, out, "0.75"]), true);

  const ours = createModel("mobilenet_v2", { widthMult: 0.75, numClasses: 10 });
  const own = join(dir, "kdep075.pth");
  saveStateDict(own, ours.stateDict());
  ours.dispose();
  const out2 = join(dir, "out2.pth");
  convertCheckpoint({ input: own, output: out2, to: "torchvision" });
  assert.equal(runPythonJson(CHECK_STRICT, [own, out2, "0.75"]), true);
  // The other converters take it too.
  for (const to of ["semseg", "detectron2", "robustness", "safetensors"]) {
    convertCheckpoint({ input: tv075, output: join(dir, `o.${to}`), to });
  }
});

test("--width-mult states the multiplier; a wrong one names the key and both shapes", () => {
  convertCheckpoint({
    input: tv075,
    output: join(dir, "s.pth"),
    to: "torchvision",
    widthMult: 0.75,
  });
  assert.throws(
    () =>
      convertCheckpoint({
        input: tv075,
        output: join(dir, "w.pth"),
        to: "torchvision",
        widthMult: 1,
      }),
    /features\.0\.0\.weight has shape \[24, 3, 3, 3\], a mobilenet_v2 expects \[32, 3, 3, 3\]/,
  );
});

test("kdep convert --width-mult on the command line", async () => {
  const out = join(dir, "cli.pth");
  const wrong = await runCli(["convert", tv075, out, "--to", "torchvision", "--width-mult", "1"]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /features\.0\.0\.weight has shape \[24, 3, 3, 3\]/);
  const right = await runCli([
    "convert",
    tv075,
    out,
    "--to",
    "torchvision",
    "--width-mult",
    "0.75",
  ]);
  assert.equal(right.code, 0, right.stderr);
  const inferred = await runCli(["convert", tv075, out, "--to", "torchvision"]);
  assert.equal(inferred.code, 0, inferred.stderr);
});

test("--weights: the model is built at the checkpoint's width and computes what torchvision does", async () => {
  const { model, report } = createModelWithWeights("mobilenet_v2", { numClasses: 10 }, tv075);
  assert.ok(report.includes("width multiplier 0.75"), report.join("; "));
  model.eval();
  T.manualSeed(3);
  const x = T.randn([2, 3, 64, 64]);
  const ref = new TorchRef();
  try {
    const [expected] = await ref.run(
      `import torchvision
m = torchvision.models.mobilenet_v2(width_mult=0.75, num_classes=10)
m.load_state_dict(torch.load(${JSON.stringify(tv075)})); m.eval()
y = m(x)`,
      { x },
      ["y"],
    );
    assertClose(
      T.noGrad(() => model.forward(x)),
      expected,
      "logits",
      1e-4,
      1e-5,
    );
  } finally {
    ref.close();
    model.dispose();
  }
});

test("the inferred multiplier reproduces torchvision's shapes at 0.35, 0.5, 1.0 and 1.4", () => {
  const shapes = runPythonJson<Record<string, Record<string, number[]>>>(`
import json, torchvision
out = {}
for w in (0.35, 0.5, 1.0, 1.4):
    m = torchvision.models.mobilenet_v2(width_mult=w)
    out[str(w)] = {k: list(v.shape) for k, v in m.state_dict().items()}
print(json.dumps(out))`);
  for (const [w, sd] of Object.entries(shapes)) {
    const map = new Map(Object.entries(sd).map(([k, shape]) => [k, { shape }]));
    const mult = inferWidthMult(map, `width ${w}`);
    assert.equal(mult, Number(w));
    const m = createModel("mobilenet_v2", { widthMult: mult as number });
    for (const [k, t] of m.stateDict()) assert.deepEqual(t.shape, sd[k], `${w}: ${k}`);
    m.dispose();
  }
});
