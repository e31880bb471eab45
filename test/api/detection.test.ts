// runDetection, the library's `kdep transfer det`: options checked by the command's schema
// (unknown key, bad value, a C4 head on MobileNetV2) before anything is written; a tiny run on
// the offline task returns the metrics it writes to result.json, with the recipe defaults of
// the dataset filled in.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeSyntheticDetection } from "../../src/data/datasets/detSynthetic.js";
import * as kdep from "../../src/index.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-api-det-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("runDetection (library)", () => {
  it("refuses an unknown key, a bad value, a C4 head or a width on MobileNetV2, writing nothing", async () => {
    const out = join(dir, "refused");
    await assert.rejects(
      kdep.runDetection({ data: dir, out, iteratons: 3 } as kdep.DetectionOptions),
      /Invalid options for runDetection:\n {2}iteratons: unknown option/,
    );
    await assert.rejects(
      kdep.runDetection({ data: dir, out, head: "c5" as "c4" }),
      /head: .*; got "c5"/,
    );
    await assert.rejects(
      kdep.runDetection({ data: dir, out, backbone: "mobilenet_v2" }),
      /head c4 needs a ResNet backbone/,
    );
    await assert.rejects(
      kdep.runDetection({ data: dir, out, backbone: "mobilenet_v2", head: "fpn", width: 16 }),
      /^Error: runDetection: width applies to ResNet backbones, not mobilenet_v2$/,
    );
    assert.equal(existsSync(out), false);
  });

  it("trains one iteration on the offline task and returns what result.json holds", async () => {
    const data = join(dir, "task");
    await writeSyntheticDetection({ fmnistDir: FMNIST_DIR, outDir: data, train: 2, val: 1 });
    const out = join(dir, "run");
    const r = await kdep.runDetection({
      dataset: "folder",
      data,
      head: "fpn",
      iterations: 1,
      steps: [1],
      warmupIters: 0,
      batchSize: 1,
      trainSizes: [96],
      testSize: 96,
      maxSize: 160,
      drawImages: 0,
      out,
      progress: "quiet",
    });
    assert.equal(r.stopped, false);
    assert.equal(r.runDir, out);
    const saved = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    // NaN (a class or area range with no object) is null in JSON; compare the finite values.
    assert.deepEqual(
      [saved.metrics.AP, saved.metrics.AP50, saved.metrics.vocMap50],
      [r.metrics?.AP, r.metrics?.AP50, r.metrics?.vocMap50],
    );
    for (const v of [r.metrics?.AP, r.metrics?.vocMap50]) assert.ok(v! >= 0 && v! <= 100);
    const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    assert.deepEqual(
      [cfg.lr, cfg.momentum, cfg.weightDecay, cfg.roiBatchPerImage],
      [0.02, 0.9, 1e-4, 512],
    );
  });
});
