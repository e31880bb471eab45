// A short fine-tune on the offline detection task, from a ResNet-18 pre-trained on the
// task's kinds of Fashion-MNIST item and from a random init, under one detection recipe
// (warm-up, step drop, frozen BN as Detectron2 fine-tunes pre-trained backbones): the
// pre-trained start must detect clearly better. One thread, so the figures are reproducible.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeSyntheticDetection } from "../../../src/data/datasets/detSynthetic.js";
import { type IdxArray, readIdx } from "../../../src/data/datasets/idx.js";
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

/** The task's classes (writeSyntheticDetection's default). */
const CLASSES = [0, 1, 5, 8];
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
/** Pre-training: batch, crop side, item sides (the canvases' items after resizing to 128). */
const B = 32;
const S = 56;
const [MIN_SIDE, MAX_SIDE] = [30, 56];

/**
 * A batch of S×S crops as the canvases look: dark noise, one item at a random side in
 * [MIN_SIDE, MAX_SIDE] and position, flipped half the time (nearest-neighbour scaling and
 * max-blending, as writeSyntheticDetection draws them).
 */
function crops(images: IdxArray, labels: IdxArray, pool: number[], rng: Rng) {
  const px = new Uint8Array(B * S * S);
  const y: number[] = [];
  for (let k = 0; k < B; k++) {
    const i = pool[Math.floor(rng.random() * pool.length)];
    y.push(CLASSES.indexOf(labels.data[i]));
    const o = k * S * S;
    for (let j = 0; j < S * S; j++) px[o + j] = Math.floor(rng.random() * 40);
    const side = Math.min(S, Math.floor(rng.uniform(MIN_SIDE, MAX_SIDE + 1)));
    const x0 = Math.floor(rng.random() * (S - side + 1));
    const y0 = Math.floor(rng.random() * (S - side + 1));
    const flip = rng.random() < 0.5;
    for (let dy = 0; dy < side; dy++) {
      for (let dx = 0; dx < side; dx++) {
        const sx = flip ? side - 1 - dx : dx;
        const v =
          images.data[i * 784 + Math.floor((dy * 28) / side) * 28 + Math.floor((sx * 28) / side)];
        const q = o + (y0 + dy) * S + x0 + dx;
        if (v > px[q]) px[q] = v;
      }
    }
  }
  return { px, y };
}

/**
 * ResNet-18 trained to tell the task's four kinds of item apart in such crops (as RGB,
 * ImageNet-normalised): a stand-in for an upstream pre-training. Returns the smoothed
 * batch accuracy at the end.
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
  let acc = 0;
  for (let s = 0; s < steps; s++) {
    const { px, y } = crops(images, labels, pool, rng);
    const hits = tidy(() => {
      const x = fromArray(px, [B, 1, S, S], { dtype: "uint8" }).to({ dtype: "float32" }).div(255);
      const input = x.expand(B, 3, S, S).sub(mean).div(std);
      opt.zeroGrad();
      const out = model.forward(input);
      const loss = crossEntropy(out, fromArray(y, [B], { dtype: "int64" }));
      loss.backward();
      opt.step();
      return out
        .argmax(1)
        .toArray()
        .filter((p, k) => p === y[k]).length;
    });
    acc = 0.9 * acc + (0.1 * hits) / B;
  }
  model.resetClassifier(0);
  saveStateDict(path, model.stateDict());
  return acc;
}

/**
 * Measured with one thread, AP50 (COCO, %) after 40 iterations, pre-trained vs random, for
 * run seeds 0/1/2: 33.5 vs 7.9, 15.5 vs 6.0, 31.0 vs 8.1 (gains 25.6, 9.5, 22.9; mean 19.3;
 * VOC07 mAP gains 24.2, 9.0, 23.0). This test runs seed 0 and asserts about half the
 * smallest gain. With trainable BN instead (the reference's SyncBN setting) the random init
 * catches up faster: 31.3 vs 18.6, 15.1 vs 16.3, 33.8 vs 21.9 (gains 12.7, -1.2, 11.9).
 * Under frozen BN a random init also lacks the normalisation statistics that pre-training
 * brings.
 */
const MIN_GAIN = 5;

describe("detection fine-tune on the offline task", () => {
  it("fine-tuning from a pre-trained backbone detects clearly better than from a random init", async () => {
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
    const acc = await pretrain(120, weights);
    assert.ok(acc > 0.7, `pre-training learnt the classes (batch accuracy ${acc}; chance 0.25)`);
    const sets = await loadDetection("folder", data);
    const run = async (w: string, name: string) => {
      const c = detDefaults("folder", {
        data,
        out: join(dir, name),
        head: "fpn",
        weights: w,
        frozenBn: true,
        iterations: 40,
        steps: [30],
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
      const m = (await runDetection(c, sets, { progress: "quiet" })).metrics;
      assert.ok(m, `${name} ran to the end`);
      return m;
    };
    const p = await run(weights, "pretrained");
    const r = await run("none", "random");
    process.stderr.write(
      `detection fine-tune: AP50 (COCO) pre-trained ${p.AP50} vs random ${r.AP50}; ` +
        `VOC07 mAP ${p.vocMap50} vs ${r.vocMap50}\n`,
    );
    assert.ok(p.AP50 - r.AP50 >= MIN_GAIN, `AP50 ${p.AP50} vs ${r.AP50}`);
    assert.ok(p.vocMap50 - r.vocMap50 >= MIN_GAIN, `VOC07 mAP ${p.vocMap50} vs ${r.vocMap50}`);
  });
});
