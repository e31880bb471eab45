// A short fine-tune on the offline detection task, from a ResNet-18 pre-trained (briefly, by
// classification of the same kind of Fashion-MNIST items) and from a random init, under an
// identical detection schedule: both must learn to detect. One thread, so the figures are
// reproducible.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeSyntheticDetection } from "../../../src/data/datasets/detSynthetic.js";
import { readIdx } from "../../../src/data/datasets/idx.js";
import { Rng } from "../../../src/data/rng.js";
import { saveStateDict } from "../../../src/io/tensors.js";
import { resnet18 } from "../../../src/models/resnet.js";
import { crossEntropy } from "../../../src/nn/functional.js";
import { SGD } from "../../../src/optim/index.js";
import { detDefaults } from "../../../src/pipelines/transfer/detection/config.js";
import { loadDetection } from "../../../src/pipelines/transfer/detection/data.js";
import { runDetection } from "../../../src/pipelines/transfer/detection/train.js";
import { fromArray, manualSeed, setNumThreads, tidy } from "../../../src/tensor/index.js";
import { FMNIST_DIR } from "../fixtures/fmnist.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-det-ft-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The task's classes (writeSyntheticDetection's default) and the pre-training batch. */
const CLASSES = [0, 1, 5, 8];
const B = 32;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
/** AP50 (%) both fine-tunings reach after 80 iterations (measured 49–50; chance is ~0). */
const MIN_AP50 = 35;

/**
 * ResNet-18 trained to tell the task's four kinds of Fashion-MNIST item apart at 28 px
 * (as RGB, ImageNet-normalised): a stand-in for an upstream pre-training.
 */
async function pretrain(steps: number, path: string): Promise<number> {
  const images = await readIdx(join(FMNIST_DIR, "train-images-idx3-ubyte.gz"));
  const labels = await readIdx(join(FMNIST_DIR, "train-labels-idx1-ubyte.gz"));
  manualSeed(0);
  const model = resnet18({ numClasses: 4 });
  const pool = [...labels.data.keys()].filter((i) => CLASSES.includes(labels.data[i]));
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const rng = new Rng(0, 99);
  const mean = fromArray(MEAN, [1, 3, 1, 1]);
  const std = fromArray(STD, [1, 3, 1, 1]);
  let last = 0;
  for (let s = 0; s < steps; s++) {
    const idx = Array.from({ length: B }, () => pool[Math.floor(rng.random() * pool.length)]);
    const px = new Uint8Array(B * 784);
    for (const [k, i] of idx.entries())
      px.set(images.data.subarray(i * 784, (i + 1) * 784), k * 784);
    last = tidy(() => {
      const x = fromArray(px, [B, 1, 28, 28], { dtype: "uint8" }).to({ dtype: "float32" }).div(255);
      const input = x.expand(B, 3, 28, 28).sub(mean).div(std);
      const y = fromArray(
        idx.map((i) => CLASSES.indexOf(labels.data[i])),
        [B],
        { dtype: "int64" },
      );
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(input), y);
      loss.backward();
      opt.step();
      return loss.item();
    });
  }
  model.resetClassifier(0);
  saveStateDict(path, model.stateDict());
  return last;
}

describe("detection fine-tune on the offline task", () => {
  it("fine-tuning from a pre-trained backbone and from a random init both learn the task", async () => {
    setNumThreads(1);
    const data = join(dir, "task");
    await writeSyntheticDetection({
      fmnistDir: FMNIST_DIR,
      outDir: data,
      train: 64,
      val: 24,
      seed: 5,
    });
    const weights = join(dir, "pretrained.pth");
    const loss = await pretrain(60, weights);
    assert.ok(loss < 0.8, `pre-training learnt the classes (last batch loss ${loss}; chance 1.39)`);
    const sets = await loadDetection("folder", data);
    const run = async (w: string, name: string, seed: number) => {
      const c = detDefaults("folder", {
        data,
        out: join(dir, `${name}-${seed}`),
        seed,
        head: "fpn",
        weights: w,
        iterations: 80,
        steps: [60],
        warmupIters: 10,
        batchSize: 2,
        lr: 0.005, // 0.02 is for 16 images per iteration; scaled down for 2
        trainSizes: [128],
        testSize: 128,
        maxSize: 200,
        roiBatchPerImage: 64,
        rpnPreNms: [600, 300],
        rpnPostNms: [300, 100],
        drawImages: 0,
      });
      const m = (await runDetection(c, sets)).metrics;
      assert.ok(m, `${name} ran to the end`);
      return m;
    };
    // At this scale the two starts end level (80 iterations, seed 0: AP50 49.97 pre-trained
    // vs 49.33 random; seed 1: 46.66 vs 49.04; at 40 iterations 29.8 vs 27.0 and 11.2 vs
    // 14.2): the task is too easy and the stand-in pre-training too short for a margin, so
    // this test asserts what holds — both fine-tunings learn the task — and prints both.
    const p = await run(weights, "pretrained", 0);
    const r = await run("none", "random", 0);
    process.stderr.write(
      `detection fine-tune: AP50 (COCO) pre-trained ${p.AP50} vs random ${r.AP50}; ` +
        `VOC07 mAP ${p.vocMap50} vs ${r.vocMap50}\n`,
    );
    for (const [name, m] of [
      ["pre-trained", p],
      ["random", r],
    ] as const) {
      assert.ok(m.AP50 >= MIN_AP50, `${name}: AP50 ${m.AP50} < ${MIN_AP50}`);
      assert.ok(m.vocMap50 >= MIN_AP50, `${name}: VOC07 mAP ${m.vocMap50} < ${MIN_AP50}`);
    }
  });
});
