// The programs in examples/ run on tiny generated data, so they cannot rot: classify against
// torchvision's own prediction for the same checkpoint and image; distil a student, then
// fine-tune it and export the classifier to ONNX (run by ONNX Runtime); fine-tune a PSPNet on
// the offline segmentation task and export it (ONNX Runtime against the saved model.pth).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { classify } from "../../examples/classify.js";
import { distilStudent } from "../../examples/distill.js";
import { finetuneAndExport } from "../../examples/finetune-export.js";
import { segmentAndExport } from "../../examples/segment-export.js";
import { writePastedTask } from "../../src/data/segSynth.js";
import { loadCheckpoint } from "../../src/io/index.js";
import { saveStateDict } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import { readSource } from "../../src/pipelines/convert/source.js";
import { pspnetFromCheckpoint } from "../../src/pipelines/export/pspnetCheckpoint.js";
import { manualSeed, noGrad, randn } from "../../src/tensor/index.js";
import { relErr, runOrt } from "../export/onnxHelpers.js";
import { runPython } from "../helpers/python.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";
import { writeTextureFolder } from "../pipelines/fixtures/patterns.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-examples-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

// torchvision's ResNet-18 with a sharpened head (so the top classes are far apart), saved as
// a plain state dict, and its top-5 on the image under torchvision's evaluation transform.
const REFERENCE = `
import json, sys, torch, torchvision
from PIL import Image
from torchvision import transforms as T
torch.manual_seed(0)
m = torchvision.models.resnet18()
with torch.no_grad():
    m.fc.weight.mul_(40)
torch.save(m.state_dict(), sys.argv[1])
m.eval()
tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
x = tf(Image.open(sys.argv[2]).convert("RGB")).unsqueeze(0)
with torch.no_grad():
    top = torch.topk(torch.softmax(m(x), 1)[0], 5)
print(json.dumps({"index": top.indices.tolist(), "p": top.values.tolist()}))
`;

describe("examples", () => {
  it("classify.ts gives torchvision's top-5 for a torchvision checkpoint", async () => {
    const images = join(dir, "photos");
    await writeTextureFolder(images, ["rings"], { one: 1 }, { size: 300, seed: 5 });
    const image = join(images, "one", "rings", "0.jpg");
    const pth = join(dir, "resnet18.pth");
    const ref = JSON.parse(runPython(REFERENCE, [pth, image]).trim()) as {
      index: number[];
      p: number[];
    };
    const got = await classify("resnet18", pth, image);
    assert.deepEqual(
      got.map((g) => g.classIndex),
      ref.index,
    );
    for (const [i, g] of got.entries()) {
      assert.ok(Math.abs(g.probability - ref.p[i]) < 1e-4, `p ${g.probability} vs ${ref.p[i]}`);
    }
    // And as the command-line program it is.
    const out = execFileSync(process.execPath, [
      join(EXAMPLES, "classify.js"),
      "resnet18",
      pth,
      image,
    ]).toString();
    assert.match(out, new RegExp(`^class ${ref.index[0]}: `));
  });

  it("distill.ts then finetune-export.ts: a student distilled, fine-tuned and exported", async () => {
    const data = join(dir, "textures");
    await writeTextureFolder(data, ["stripes0", "rings"], { train: 6, val: 2 }, { seed: 1 });
    const quick = { imageSize: 32, workers: 0, progress: "quiet" } as const;
    const student = await distilStudent(data, join(dir, "kdep"), {
      ...quick,
      teacher: "resnet18",
      epochs: 1,
      batchSize: 4,
      valEvery: 0,
    });
    const sd = loadCheckpoint(student).value as Map<string, unknown>;
    assert.ok(sd.has("layer4.1.bn2.running_var") && !sd.has("fc.weight"), "a headless student");

    const onnxFile = join(dir, "textures.onnx");
    const r = await finetuneAndExport(student, data, onnxFile, {
      ...quick,
      resize: 36,
      epochs: 1,
      batchSize: 4,
      evalEvery: 1,
      out: join(dir, "transfer"),
    });
    assert.ok(r.top1 >= 0 && r.top1 <= 100);
    assert.ok(existsSync(onnxFile));
    const session = await ort.InferenceSession.create(onnxFile);
    const x = new ort.Tensor(
      "float32",
      new Float32Array(2 * 3 * 32 * 32).fill(0.1),
      [2, 3, 32, 32],
    );
    const y = (await session.run({ input: x }))[session.outputNames[0]];
    assert.deepEqual(y.dims, [2, 2]);
    await session.release();
  });

  it("segment-export.ts: a PSPNet fine-tuned on the offline task, exported to ONNX", async () => {
    const data = await writePastedTask({
      fmnistDir: FMNIST_DIR,
      out: join(dir, "seg-task"),
      classes: ["Coat", "Dress"],
      train: 8,
      val: 2,
      size: 48,
    });
    // A narrow ResNet-18 stands in for a pre-trained backbone.
    manualSeed(0);
    const backbone = createModel("resnet18", { numClasses: 0, width: 8 });
    const weights = join(dir, "r18-narrow.pth");
    saveStateDict(weights, backbone.stateDict());
    backbone.dispose();
    const onnxFile = join(dir, "seg.onnx");
    const out = join(dir, "seg-run");
    const r = await segmentAndExport(weights, data, onnxFile, {
      width: 8,
      headChannels: 16,
      crop: 48,
      epochs: 1,
      batchSize: 4,
      workers: 0,
      saveImages: 0,
      evalFlip: false,
      progress: "quiet",
      out,
    });
    assert.deepEqual(r.classes, ["background", "Coat", "Dress"]);
    assert.ok(r.mIoU >= 0 && r.mIoU <= 1, `mIoU ${r.mIoU}`);
    // The exported graph computes what the saved model computes.
    const { stateDict } = readSource(join(out, "model.pth"));
    const { model } = pspnetFromCheckpoint(stateDict, "model.pth");
    model.eval();
    const x = randn([2, 3, 48, 48]);
    const want = noGrad(() => model.forward(x));
    assert.deepEqual(want.shape, [2, 3, 48, 48]);
    const err = relErr(await runOrt(onnxFile, x), want.toTypedArray() as Float32Array);
    assert.ok(err <= 1e-4, `relative error ${err}`);
    model.dispose();
  });
});
