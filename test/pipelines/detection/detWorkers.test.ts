// A detection run whose training images are decoded on worker threads ends with the same
// detections, bit for bit, as one decoding on the main thread (one thread for libtorch).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runDetection } from "../../../src/pipelines/transfer/detection/train.js";
import { setNumThreads } from "../../../src/tensor/index.js";
import { tinyDetectionConfig, tinyDetectionTask } from "../fixtures/tinyDetection.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-det-workers-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("detection training images on worker threads", () => {
  it("train the same detector as the main-thread path", async () => {
    setNumThreads(1);
    const { data, sets } = await tinyDetectionTask(dir, 3);
    const run = async (workers: number) => {
      const out = join(dir, `w${workers}`);
      const c = tinyDetectionConfig(data, out, { head: "fpn", workers });
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
