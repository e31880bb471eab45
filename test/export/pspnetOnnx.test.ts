// PSPNet's ONNX export: ONNX Runtime must give kdep's eval-mode logits to 1e-4 relative at two
// batch sizes, for input sizes whose feature maps exercise each way a pyramid bin is written
// (GlobalAveragePool, AveragePool when the bins divide the map, the pooling matrix otherwise,
// including bins larger than the map), and python3-onnx's full checker must accept the file.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { saveStateDict } from "../../src/io/tensors.js";
import { type PSPBackbone, PSPNet } from "../../src/models/pspnet.js";
import { adaptiveAvgPool2d } from "../../src/nn/functional.js";
import { exportCheckpointOnnx, exportOnnx } from "../../src/pipelines/export/index.js";
import { adaptivePoolMatrix } from "../../src/pipelines/export/pspnetGraph.js";
import { manualSeed, noGrad, randn, setNumThreads } from "../../src/tensor/index.js";
import { runCli } from "../helpers/cli.js";
import { checkWithOnnx, onnxChecker, randomiseBn, relErr, runOrt } from "./onnxHelpers.js";

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), "kdep-psp-onnx-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function smallPsp(backbone: PSPBackbone, seed: number): PSPNet {
  manualSeed(seed);
  const m = new PSPNet({
    backbone,
    numClasses: 5,
    headChannels: 16,
    ...(backbone === "mobilenet_v2" ? {} : { width: 8 }),
  });
  randomiseBn(m);
  return m.eval();
}

/** ONNX Runtime vs kdep at batch 1 and 2; returns the worst relative error. */
async function parity(t: TestContext, m: PSPNet, file: string, size: [number, number]) {
  let worst = 0;
  for (const batch of [1, 2]) {
    const x = randn([batch, 3, ...size]);
    const want = noGrad(() => m.forward(x));
    assert.deepEqual(want.shape, [batch, 5, ...size]);
    const got = await runOrt(file, x);
    const err = relErr(got, want.toTypedArray() as Float32Array);
    t.diagnostic(
      `${file.split("/").at(-1)} batch ${batch}: max relative error ${err.toExponential(2)}`,
    );
    assert.ok(err <= 1e-4, `${file} batch ${batch}: relative error ${err}`);
    worst = Math.max(worst, err);
    x.dispose();
    want.dispose();
  }
  if (onnxChecker) assert.equal(checkWithOnnx(file), "17 batch");
  return worst;
}

describe("PSPNet ONNX export", () => {
  it("the pooling matrix is torch's adaptive average pooling (uneven and overlapping windows)", () => {
    for (const [h, w, b] of [
      [6, 7, 3],
      [3, 4, 6],
      [8, 8, 6],
    ]) {
      const x = randn([1, 2, h, w]);
      const want = noGrad(() => adaptiveAvgPool2d(x, b));
      const p = adaptivePoolMatrix(h, w, b);
      const xs = x.toTypedArray() as Float32Array;
      const got = new Float32Array(2 * b * b);
      for (let c = 0; c < 2; c++)
        for (let o = 0; o < b * b; o++)
          for (let k = 0; k < h * w; k++)
            got[c * b * b + o] += xs[c * h * w + k] * p[k * b * b + o];
      assert.ok(relErr(got, want.toTypedArray() as Float32Array) < 1e-6, `${h}x${w} → ${b}`);
      x.dispose();
      want.dispose();
    }
  });

  const CASES: { backbone: PSPBackbone; size: [number, number] }[] = [
    { backbone: "resnet18", size: [41, 53] }, // 6×7 map: every bin but 1 a matrix
    { backbone: "resnet18", size: [64, 64] }, // 8×8 map: bin 2 an AveragePool
    { backbone: "resnet50", size: [35, 29] }, // Bottleneck's dilated conv2
    { backbone: "mobilenet_v2", size: [96, 128] }, // 3×4 map: bin 6 larger than the map
  ];
  for (const c of CASES) {
    it(`${c.backbone} at ${c.size.join("x")} matches ONNX Runtime at batch 1 and 2`, async (t) => {
      const m = smallPsp(c.backbone, 7);
      const file = join(dir, `psp-${c.backbone}-${c.size.join("x")}.onnx`);
      const r = exportOnnx(m, file, { inputSize: c.size });
      assert.equal(r.output, "logits");
      await parity(t, m, file, c.size);
      m.dispose();
    });
  }

  it("kdep export --to onnx reads a transfer seg checkpoint and needs --input-size", async (t) => {
    const m = smallPsp("resnet18", 11);
    const pth = join(dir, "model.pth");
    saveStateDict(pth, m.stateDict());
    const out = join(dir, "seg.onnx");
    const missing = await runCli(["export", "--to", "onnx", pth, out]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /PSPNet needs a fixed input size.*--input-size HxW/);
    const r = await runCli(["export", "--to", "onnx", pth, out, "--input-size", "45x38"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pspnet_resnet18[\s\S]*logits \[batch, classes, H, W\]/);
    await parity(t, m, out, [45, 38]);
    // The same through the API, square size; a backbone that does not match is refused.
    const api = exportCheckpointOnnx({
      input: pth,
      out: join(dir, "api.onnx"),
      inputSize: [40, 40],
    });
    assert.equal(api.arch, "pspnet_resnet18");
    assert.throws(
      () =>
        exportCheckpointOnnx({
          input: pth,
          out: join(dir, "x.onnx"),
          inputSize: [40, 40],
          arch: "resnet50",
        }),
      /PSPNet on resnet18, not on resnet50/,
    );
    assert.throws(
      () => exportOnnx(m, join(dir, "f.onnx"), { inputSize: [40, 40], output: "features" }),
      /segmentation logits only/,
    );
    m.dispose();
    // A MobileNetV2 PSPNet's checkpoint keeps torchvision's features.* keys.
    const mnv2 = smallPsp("mobilenet_v2", 13);
    const mpth = join(dir, "mnv2-psp.pth");
    saveStateDict(mpth, mnv2.stateDict());
    const monnx = join(dir, "mnv2-psp.onnx");
    const mr = exportCheckpointOnnx({ input: mpth, out: monnx, inputSize: [64, 80] });
    assert.equal(mr.arch, "pspnet_mobilenet_v2");
    await parity(t, mnv2, monnx, [64, 80]);
    mnv2.dispose();
  });

  it("a PSPNet checkpoint missing a tensor is refused, naming the key", () => {
    const m = smallPsp("resnet18", 12);
    const sd = m.stateDict();
    sd.delete("layer4.1.bn2.running_var");
    const pth = join(dir, "broken.pth");
    saveStateDict(pth, sd);
    assert.throws(
      () => exportCheckpointOnnx({ input: pth, out: join(dir, "b.onnx"), inputSize: [40, 40] }),
      /broken\.pth.*layer4\.1\.bn2\.running_var/,
    );
    m.dispose();
  });
});
