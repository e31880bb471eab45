// Exact resume of a detection run: stopped after two of four iterations and run again, it
// ends with the same detections, bit for bit, as the run that was never stopped (one
// thread; the samplers' and the size choice's draws come from the checkpointed generator).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runDetection } from "../../../src/pipelines/transfer/detection/train.js";
import { setNumThreads } from "../../../src/tensor/index.js";
import { tinyDetectionConfig, tinyDetectionTask } from "../fixtures/tinyDetection.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-det-resume-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("detection run resume", () => {
  it("stopped and resumed equals uninterrupted", async () => {
    setNumThreads(1);
    const { data, sets } = await tinyDetectionTask(dir, 2);
    const config = (out: string) =>
      tinyDetectionConfig(data, join(dir, out), { head: "c4", checkpointEvery: 1 });
    const whole = await runDetection(config("whole"), sets, { progress: "quiet" });
    const first = await runDetection(config("split"), sets, {
      progress: "quiet",
      stopAfterSteps: 2,
    });
    assert.equal(first.stopped, true);
    assert.equal(first.metrics, null);
    const second = await runDetection(config("split"), sets, { progress: "quiet" });
    const log = readFileSync(join(dir, "split", "metrics.jsonl"), "utf8");
    assert.match(log, /det\/resume/, "the second run continued from the checkpoint");
    assert.deepEqual(second.metrics, whole.metrics);
    const dets = (d: string) => readFileSync(join(dir, d, "coco_results.json"), "utf8");
    assert.ok(JSON.parse(dets("whole")).length > 0, "some detections to compare");
    assert.equal(dets("split"), dets("whole"));
  });
});
