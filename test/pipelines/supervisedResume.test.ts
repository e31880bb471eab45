// Supervised training on the run skeleton: a run folder with a checkpoint is continued only
// with the settings it was started with (the refusal names what changed), and a resume with
// the same settings picks up after the last finished epoch.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createModel } from "../../src/models/registry.js";
import { runSupervised, type SupervisedInputs } from "../../src/pipelines/supervised/supervised.js";
import { fmnistSmall, TRAIN_32 } from "./fixtures/fmnist.js";

describe("runSupervised resume", () => {
  it("refuses changed settings, naming them, and continues with the same ones", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "kdep-sup-")), "run");
    const train = await fmnistSmall(2);
    const inputs = (change: Partial<SupervisedInputs>): SupervisedInputs => ({
      createModel: () => createModel("resnet18", { numClasses: 10, width: 4 }),
      train,
      trainTransform: TRAIN_32,
      out,
      epochs: 1,
      batchSize: 10,
      lr: 0.05,
      schedule: { kind: "constant" },
      workers: 0,
      progress: "quiet",
      ...change,
    });
    const first = await runSupervised(inputs({}));
    assert.equal(first.epochsDone, 1);
    const record = readFileSync(join(out, "config.json"), "utf8");
    assert.equal(JSON.parse(record).lr, 0.05);

    await assert.rejects(
      runSupervised(inputs({ epochs: 2, lr: 0.1, batchSize: 5 })),
      /Cannot resume with settings that differ from .*config\.json \(batchSize: 10 → 5, lr: 0\.05 → 0\.1\)/,
    );
    assert.equal(readFileSync(join(out, "config.json"), "utf8"), record, "record untouched");

    const resumed = await runSupervised(inputs({ epochs: 2 }));
    assert.equal(resumed.epochsDone, 2);
    assert.equal(resumed.history.length, 2);
    assert.deepEqual(resumed.history[0], first.history[0], "epoch 1 comes from the checkpoint");
    assert.ok(readFileSync(join(out, "metrics.jsonl"), "utf8").includes("supervised/resume"));
  });
});
