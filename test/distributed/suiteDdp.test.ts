// `kdep transfer suite --nproc-per-node 2`: one classification (DTD), one segmentation and
// one detection row, every run data-parallel over the same two ranks (each run's evaluation
// sharded over them, then both go on to the next run); rank 0 alone reports and writes the
// table.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeSyntheticDetection } from "../../src/data/datasets/detSynthetic.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import type { SuiteSummary } from "../../src/report/suiteTable.js";
import { PY_DIR, PYTHON } from "../data/helpers.js";
import { runCli } from "../helpers/cli.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";

const ENV = { KDEP_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };

describe("kdep transfer suite --nproc-per-node 2", () => {
  it("classification, segmentation and detection rows as two ranks; rank 0 writes the table", async () => {
    const root = mkdtempSync(join(tmpdir(), "kdep-suite-ddp-"));
    const data = join(root, "data");
    execFileSync(PYTHON, [join(PY_DIR, "classification_fixtures.py"), data]);
    const seg = await runCli(
      ["transfer", "seg-task", "--out", join(data, "seg-folder"), "--train", "4", "--val", "2"],
      { env: ENV },
    );
    assert.equal(seg.code, 0, seg.stderr);
    const det = { fmnistDir: FMNIST_DIR, outDir: join(data, "det-folder"), train: 4, val: 2 };
    await writeSyntheticDetection({ ...det, seed: 1, minSide: 64, maxSide: 64 });
    const segCfg = join(root, "seg.json");
    const segSettings = { width: 8, headChannels: 16, crop: 40, baseSize: 48, epochs: 1 };
    writeFileSync(segCfg, JSON.stringify({ ...segSettings, batchSize: 4, saveImages: 0 }));
    const detCfg = join(root, "det.json");
    const detSettings = { head: "fpn", iterations: 2, steps: [2], warmupIters: 0, batchSize: 2 };
    const detSizes = { trainSizes: [64], testSize: 64, maxSize: 96, drawImages: 0 };
    const rpn = { roiBatchPerImage: 16, rpnPreNms: [100, 50], rpnPostNms: [32, 32] };
    writeFileSync(detCfg, JSON.stringify({ ...detSettings, ...detSizes, ...rpn }));
    const out = join(root, "suite");
    const r = await runCli(
      [
        ...["transfer", "suite", "--students", "random=none", "--data-root", data],
        ...["--datasets", "dtd", "--seg-datasets", "folder", "--seg-config", segCfg],
        ...["--det-datasets", "folder", "--det-config", detCfg, "--runs", "1"],
        ...["--epochs", "1", "--batch-size", "16", "--image-size", "32", "--resize", "36"],
        ...["--workers", "0", "--out", out, "--nproc-per-node", "2"],
      ],
      { env: ENV },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^Suite table: /gm)?.length, 1, r.stdout);
    assert.equal(r.stdout.match(/random · folder COCO AP: /g)?.length, 1, r.stdout);
    const json = JSON.parse(readFileSync(join(out, "suite.json"), "utf8")) as SuiteSummary;
    assert.deepEqual(json.datasets.sort(), ["dtd", "folder COCO AP", "folder mIoU"]);
    const runs = ["dtd/run0", "det-folder/run0", "seg-folder/run0"].map((d) =>
      join(out, "random", d),
    );
    for (const run of runs) assert.ok(existsSync(join(run, "result.json")), run);
    // Global batch 2 over 2 ranks: the detection run's 2 iterations, each of one image a rank.
    const detCk = loadCheckpointFile(join(runs[1], "checkpoint.pth"));
    assert.equal(detCk.loop.globalStep, 2);
  });
});
