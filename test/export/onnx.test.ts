// ONNX export checked two ways: ONNX Runtime (onnxruntime-node, CPU) runs the file and must
// agree with kdep's eval-mode forward to 1e-4 relative at two batch sizes, and Debian's
// python3-onnx checker (full check, with shape inference) must accept it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { saveStateDict } from "../../src/io/tensors.js";
import { FasterRcnn } from "../../src/models/detection/fasterRcnn.js";
import { createModel } from "../../src/models/index.js";
import { Module } from "../../src/nn/module.js";
import { exportCheckpointOnnx, exportOnnx } from "../../src/pipelines/export/index.js";
import { manualSeed, noGrad, randn } from "../../src/tensor/index.js";
import { runCli } from "../helpers/cli.js";
import { PYTHON } from "../helpers/python.js";
import { checkWithOnnx, onnxChecker, randomiseBn, relErr, runOrt } from "./onnxHelpers.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-onnx-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function parity(
  t: TestContext,
  name: string,
  opts: { features?: boolean; size: number; width?: number },
) {
  manualSeed(0);
  const model = createModel(name, {
    numClasses: opts.features ? 0 : 10,
    preReluFeature: opts.features ?? false,
    ...(opts.width ? { width: opts.width } : {}),
  });
  randomiseBn(model);
  model.eval();
  const file = join(dir, `${name}${opts.features ? "-features" : ""}${opts.width ?? ""}.onnx`);
  const r = exportOnnx(model, file);
  assert.equal(r.output, opts.features ? "features" : "logits");
  for (const batch of [1, 3]) {
    const x = randn([batch, 3, opts.size, opts.size]);
    const want = noGrad(() => model.forward(x));
    const got = await runOrt(file, x);
    const err = relErr(got, want.toTypedArray() as Float32Array);
    assert.ok(err <= 1e-4, `${name} batch ${batch}: relative error ${err}`);
    t.diagnostic(`${name} batch ${batch}: max relative error ${err.toExponential(2)}`);
    assert.equal(got.length, want.numel);
    x.dispose();
    want.dispose();
  }
  if (onnxChecker) assert.equal(checkWithOnnx(file), "17 batch");
  model.dispose();
}

describe("ONNX export", () => {
  it("resnet18 classifier matches ONNX Runtime at batch 1 and 3", (t) =>
    parity(t, "resnet18", { size: 64 }));
  it("resnet50 classifier matches ONNX Runtime at batch 1 and 3", (t) =>
    parity(t, "resnet50", { size: 64 }));
  it("mobilenet_v2 classifier matches ONNX Runtime at batch 1 and 3", (t) =>
    parity(t, "mobilenet_v2", { size: 64 }));
  it("a headless pre-ReLU resnet18 exports KDEP's pooled feature (a backbone)", (t) =>
    parity(t, "resnet18", { features: true, size: 48 }));
  it("every other ResNet depth (narrow: width 8) matches ONNX Runtime", async (t) => {
    for (const name of ["resnet34", "resnet101", "resnet152"]) {
      await parity(t, name, { size: 32, width: 8 });
    }
  });
  it("python3-onnx's checker is installed (scripts/setup.sh)", () => {
    assert.ok(onnxChecker, `${PYTHON} cannot import onnx: run scripts/setup.sh (python3-onnx)`);
  });

  it("kdep export --to onnx and exportCheckpointOnnx: logits or pooled features, any image size", async () => {
    manualSeed(1);
    const m = createModel("mobilenet_v2", { numClasses: 5 });
    randomiseBn(m);
    const pth = join(dir, "mnv2.pth");
    saveStateDict(pth, m.stateDict());
    const out = join(dir, "mnv2-cli.onnx");
    const r = await runCli(["export", "--to", "onnx", pth, out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mobilenet_v2[\s\S]*ONNX opset 17, logits/);
    const feats = join(dir, "mnv2-cli-features.onnx");
    const api = exportCheckpointOnnx({ input: pth, out: feats, output: "features" });
    assert.equal(api.arch, "mobilenet_v2");
    m.eval();
    const x = randn([2, 3, 40, 56]);
    const logits = noGrad(() => m.forward(x));
    assert.ok(relErr(await runOrt(out, x), logits.toTypedArray() as Float32Array) <= 1e-4);
    const pooled = noGrad(() => m.forwardHead(m.forwardFeatures(x), { preLogits: true }));
    assert.ok(relErr(await runOrt(feats, x), pooled.toTypedArray() as Float32Array) <= 1e-4);
    m.dispose();
  });

  it("refuses what it cannot export, naming what is missing", async () => {
    class Custom extends Module {}
    assert.throws(() => exportOnnx(new Custom(), join(dir, "x.onnx")), /Custom to ONNX yet/);
    const headless = createModel("resnet18", { numClasses: 0 });
    assert.throws(
      () => exportOnnx(headless, join(dir, "y.onnx"), { output: "logits" }),
      /no classifier/,
    );
    headless.dispose();
    // A detector as `kdep transfer det` builds it: refused as a model and as a checkpoint.
    const detector = new FasterRcnn({ backbone: "resnet18", head: "fpn", numClasses: 3 });
    assert.throws(
      () => exportOnnx(detector, join(dir, "d.onnx")),
      /cannot export a detector \(Faster R-CNN\).*RoIAlign/,
    );
    const det = join(dir, "detector.pth");
    saveStateDict(det, detector.stateDict());
    detector.dispose();
    const r = await runCli(["export", "--to", "onnx", det, join(dir, "det.onnx")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /detector\.pth holds a detector.*RoIAlign.*not written yet/);
    const bad = await runCli(["export", "--to", "tflite", det, join(dir, "det.tflite")]);
    assert.match(bad.stderr, /--to.*onnx/);
  });
});
