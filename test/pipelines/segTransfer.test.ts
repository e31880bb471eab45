// Segmentation transfer on the offline task (Fashion-MNIST objects pasted on canvases): a
// backbone pre-trained on other Fashion-MNIST classes beats random init; a run stopped
// mid-epoch and resumed ends bit for bit where an uninterrupted one does; backbones load
// from `kdep convert --to semseg` output and incomplete ones are refused, naming the keys.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { Dataset } from "../../src/data/datasets/dataset.js";
import { fashionMnist } from "../../src/data/datasets/idx.js";
import { balancedSubset, subsetByClasses } from "../../src/data/datasets/select.js";
import { writePastedTask } from "../../src/data/segSynth.js";
import { fromRaw, loadStateDictFile, saveStateDict } from "../../src/io/tensors.js";
import { PSPNet } from "../../src/models/pspnet.js";
import { createModel } from "../../src/models/registry.js";
import { convertCheckpoint } from "../../src/pipelines/convert/convert.js";
import { readSource } from "../../src/pipelines/convert/source.js";
import { runSupervised } from "../../src/pipelines/supervised/supervised.js";
import { SegConfigSchema, withRecipe } from "../../src/pipelines/transfer/segConfig.js";
import { type SegData, segData } from "../../src/pipelines/transfer/segData.js";
import { runSegmentation, type SegmentResult } from "../../src/pipelines/transfer/segment.js";
import { manualSeed, setNumThreads } from "../../src/tensor/index.js";
import { FMNIST_DIR, MEAN, STD } from "./fixtures/fmnist.js";

setNumThreads(1); // margins were measured, and resumes compared, with one thread
const tmp = () => mkdtempSync(join(tmpdir(), "kdep-seg-"));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const UP = ["T-shirt/top", "Pullover", "Sandal", "Bag", "Trouser", "Sneaker"];
const DOWN = ["Coat", "Shirt", "Dress", "Ankle boot"];
const NET = { backbone: "resnet18" as const, width: 8, headChannels: 32 };

function segRun(
  data: SegData,
  weights: string | null,
  out: string,
  settings: Record<string, unknown>,
  stopAfterSteps?: number,
): Promise<SegmentResult> {
  const config = withRecipe(
    SegConfigSchema.parse({
      dataset: "folder",
      ...NET,
      batchSize: 8,
      crop: 64,
      baseSize: 64,
      workers: 0,
      saveImages: 2,
      out,
      ...settings,
    }),
  );
  return runSegmentation({
    config,
    data,
    progress: "quiet",
    stopAfterSteps,
    createModel: () => {
      const m = new PSPNet({ ...NET, numClasses: data.classes.length });
      if (weights) m.loadBackbone(loadStateDictFile(weights).stateDict, weights);
      return m;
    },
  });
}

describe("segmentation transfer", () => {
  const root = tmp();
  let weights = "";
  let data: SegData;

  before(async () => {
    const train = await fashionMnist(FMNIST_DIR, "train");
    const pre = await runSupervised({
      createModel: () => createModel("resnet18", { numClasses: UP.length, width: 8 }),
      train: balancedSubset(subsetByClasses(train, UP), 500, 0),
      trainTransform: [
        { op: "randomResizedCrop", size: 32, scale: [0.5, 1] },
        { op: "hflip", p: 0.5 },
        { op: "toTensor" },
        { op: "normalize", mean: MEAN, std: STD },
      ],
      out: join(root, "pre"),
      epochs: 8,
      batchSize: 64,
      lr: 0.1,
      workers: 0,
      progress: "quiet",
    });
    weights = pre.weightsPath;
    const task = await writePastedTask({
      fmnistDir: FMNIST_DIR,
      out: join(root, "task"),
      classes: DOWN,
      train: 40,
      val: 40,
    });
    data = await segData("folder", task);
  });

  it("a pre-trained backbone reaches a clearly better mIoU than random init", async () => {
    const miou = { pretrained: [] as number[], random: [] as number[] };
    for (const seed of [0, 1]) {
      for (const [name, w] of [
        ["pretrained", weights],
        ["random", null],
      ] as const) {
        const out = join(root, `${name}-${seed}`);
        // Grey pasted digits, 40 images: colour jitter only adds noise at this scale.
        const r = await segRun(data, w, out, {
          seed,
          epochs: 60,
          evalEvery: 30,
          lr: 0.02,
          photometric: false,
        });
        assert.equal(r.history.length, 60);
        assert.ok(r.bestMIoU >= r.finalMIoU);
        miou[name].push(100 * r.bestMIoU);
        const saved = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
        assert.equal(saved.bestMIoU, r.bestMIoU);
        assert.equal(saved.bestEpoch, r.bestEpoch);
        for (const f of ["best.pth", "model.pth", "confusion.csv", "per_class.md", "metrics.jsonl"])
          assert.ok(existsSync(join(out, f)), f);
        assert.ok(existsSync(join(out, "predictions", "0001.png")));
      }
    }
    console.log(
      `segmentation transfer mIoU: pre-trained ${miou.pretrained}, random ${miou.random}`,
    );
    // Seen (seeds 0, 1; one thread): pre-trained 38.7 / 35.5, random init 31.5 / 32.4.
    for (const i of [0, 1])
      assert.ok(
        miou.pretrained[i] > miou.random[i],
        `seed ${i}: ${miou.pretrained[i]} vs ${miou.random[i]}`,
      );
    assert.ok(
      mean(miou.pretrained) >= mean(miou.random) + 3,
      `pre-trained ${miou.pretrained} vs random ${miou.random}`,
    );
  });

  it("stopped mid-epoch and resumed, a run ends bit for bit where an uninterrupted one does", async () => {
    const small = { ...data, train: data.train };
    const settings = { seed: 3, epochs: 2, evalEvery: 1, batchSize: 4, saveImages: 0 };
    const a = await segRun(small, weights, join(root, "whole"), settings);
    const dir = join(root, "resumed");
    const stopped = await segRun(small, weights, dir, settings, 13);
    assert.ok(stopped.stopped);
    assert.ok(!existsSync(join(dir, "result.json")), "no result.json for a stopped run");
    const b = await segRun(small, weights, dir, settings);
    // The loop's epoch means of the losses cover the steps of the resuming process only, so
    // the evaluation results and the weights are what must agree.
    const strip = (r: SegmentResult) =>
      r.history.map(({ seconds: _s, main: _m, aux: _a, loss: _l, ...h }) => h);
    assert.deepEqual(strip(b), strip(a));
    const [sa, sb] = [a.model.stateDict(), b.model.stateDict()];
    for (const [k, t] of sa)
      assert.ok(Buffer.from(t.toBytes()).equals(Buffer.from(sb.get(k)!.toBytes())), k);
    await assert.rejects(
      segRun(small, weights, dir, { ...settings, lr: 0.5 }),
      /Cannot resume with settings that differ .*lr/,
    );
  });

  it("names the mask file when a label is ≥ the classes and not 255 (readers that do not check)", async () => {
    const two = ["background", "Coat"];
    const train = new Dataset({ ...data.train.spec, classes: two });
    const broken = { train, val: data.val, classes: two };
    await assert.rejects(
      segRun(broken, null, join(root, "badlabels"), { epochs: 1, evalEvery: 0 }),
      /Label mask .*masks\/train_\d+\.png holds [2-4]; expected 0\.\.1 or 255 \(ignore\)/,
    );
  });

  it("loads backbones converted with --to semseg (ResNet-18, MobileNetV2) and refuses incomplete ones", () => {
    const dir = tmp();
    for (const arch of ["resnet18", "mobilenet_v2"] as const) {
      manualSeed(1);
      const net = createModel(arch, arch === "resnet18" ? { width: 8 } : {});
      const src = join(dir, `${arch}.pth`);
      saveStateDict(src, net.stateDict());
      const out = join(dir, `${arch}-semseg.pth`);
      convertCheckpoint({ input: src, output: out, to: "semseg" });
      const { stateDict } = readSource(out);
      const sd = new Map([...stateDict].map(([k, v]) => [k, fromRaw(v)]));
      const psp = new PSPNet({
        backbone: arch,
        numClasses: 3,
        headChannels: 16,
        ...(arch === "resnet18" ? { width: 8 } : {}),
      });
      assert.deepEqual(psp.loadBackbone(sd, out), []);
      const mine = psp.stateDict();
      const [ourKey, tvKey] =
        arch === "resnet18"
          ? ["layer0.0.weight", "conv1.weight"]
          : ["features.18.0.weight", "features.18.0.weight"];
      assert.ok(
        Buffer.from(mine.get(ourKey)!.toBytes()).equals(
          Buffer.from(net.stateDict().get(tvKey)!.toBytes()),
        ),
      );
      if (arch === "resnet18") {
        sd.delete("layer4.1.bn2.running_var");
        sd.set("layer5.0.conv1.weight", sd.get("conv1.weight")!);
        assert.throws(
          () => psp.loadBackbone(sd, out),
          /resnet18-semseg\.pth does not fit the resnet18 PSPNet backbone: missing layer4\.1\.bn2\.running_var; unexpected layer5\.0\.conv1\.weight/,
        );
      }
    }
  });
});
