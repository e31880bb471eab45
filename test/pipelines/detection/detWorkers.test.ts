// A detection run whose training images are decoded on worker threads ends with the same
// detections, bit for bit, as one decoding on the main thread (one thread for libtorch).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeSyntheticDetection } from "../../../src/data/datasets/detSynthetic.js";
import { detDefaults } from "../../../src/pipelines/transfer/detection/config.js";
import { loadDetection } from "../../../src/pipelines/transfer/detection/data.js";
import { runDetection } from "../../../src/pipelines/transfer/detection/train.js";
import { setNumThreads } from "../../../src/tensor/index.js";
import { FMNIST_DIR } from "../fixtures/fmnist.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-det-workers-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("detection training images on worker threads", () => {
  it("train the same detector as the main-thread path", async () => {
    setNumThreads(1);
    const data = join(dir, "task");
    await writeSyntheticDetection({
      fmnistDir: FMNIST_DIR,
      outDir: data,
      train: 6,
      val: 3,
      seed: 3,
    });
    const sets = await loadDetection("folder", data);
    const run = async (workers: number) => {
      const out = join(dir, `w${workers}`);
      const c = detDefaults("folder", {
        data,
        out,
        head: "fpn",
        workers,
        iterations: 4,
        steps: [3],
        warmupIters: 2,
        batchSize: 2,
        lr: 0.005,
        trainSizes: [80, 96],
        testSize: 96,
        maxSize: 160,
        roiBatchPerImage: 32,
        rpnPreNms: [200, 100],
        rpnPostNms: [100, 50],
        drawImages: 0,
      });
      const r = await runDetection(c, sets, { progress: "quiet" });
      return { metrics: r.metrics, dets: readFileSync(join(out, "coco_results.json"), "utf8") };
    };
    const main = await run(0);
    const threaded = await run(2);
    assert.ok(JSON.parse(main.dets).length > 0, "the detector found something to compare");
    assert.equal(threaded.dets, main.dets);
    assert.deepEqual(threaded.metrics, main.metrics);
  });
});
