// `kdep transfer det-task` then `kdep transfer det` end to end on a tiny budget: the run
// folder holds the checkpoint, COCO results JSON, drawn PNGs and metrics; bad settings
// fail with a clear message.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-det-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("kdep transfer det", () => {
  it("writes the task, trains two iterations, evaluates and saves what it promises", async () => {
    const data = join(dir, "task");
    const made = await runCli([
      "transfer",
      "det-task",
      "--out",
      data,
      "--fmnist",
      FMNIST_DIR,
      "--train",
      "4",
      "--val",
      "2",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const out = join(dir, "run");
    const r = await runCli([
      "transfer",
      "det",
      "--dataset",
      "folder",
      "--data",
      data,
      "--head",
      "c4",
      "--iterations",
      "2",
      "--steps",
      "1",
      "--warmup-iters",
      "1",
      "--batch-size",
      "1",
      "--train-sizes",
      "96",
      "--test-size",
      "96",
      "--max-size",
      "160",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /VOC07 AP50 \d+\.\d\d · COCO AP \d+\.\d\d/);
    for (const f of [
      "checkpoint.pth",
      "coco_results.json",
      "result.json",
      "config.json",
      "metrics.jsonl",
    ]) {
      assert.ok(existsSync(join(out, f)), f);
    }
    assert.equal(readdirSync(join(out, "images")).filter((f) => f.endsWith(".png")).length, 2);
    const res = JSON.parse(readFileSync(join(out, "coco_results.json"), "utf8")) as {
      image_id: number;
      category_id: number;
      bbox: number[];
      score: number;
    }[];
    for (const d of res) {
      assert.ok(
        [1, 2].includes(d.image_id) &&
          d.category_id >= 1 &&
          d.category_id <= 4 &&
          d.bbox.length === 4,
      );
      assert.ok(d.score > 0.05 && d.score <= 1);
    }
    const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    assert.equal(cfg.lr, 0.02, "recipe default kept");
    assert.equal(cfg.weightDecay, 1e-4);
  });

  it("refuses a C4 head on MobileNetV2 and an unknown dataset kind", async () => {
    const a = await runCli([
      "transfer",
      "det",
      "--dataset",
      "folder",
      "--data",
      dir,
      "--backbone",
      "mobilenet_v2",
    ]);
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /--head c4 needs a ResNet backbone/);
    const b = await runCli(["transfer", "det", "--dataset", "pascal", "--data", dir]);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /dataset/);
  });
});
