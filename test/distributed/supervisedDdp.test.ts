// The supervised baselines' pipeline (runSupervised) as 2 data-parallel ranks: rank 0 alone
// writes the run folder, and with SyncBN in the model (the fixture converts it) 2 ranks ×
// batch 8 end with the weights of one process × batch 16 after 4 steps. Not with 4 images a
// rank: a BN bias whose gradient nearly cancels over the batch gets it as the sum of two
// larger per-rank float partials, and at 4 images a rank (1×1 maps in layer4) that rounding
// grows to 7e-2 in 4 steps (one process with 2 threads: 5e-6).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { runScriptJob, startRank, studentDistance } from "./ranks.js";

const CHILD = fileURLToPath(new URL("./fixtures/supervisedChild.js", import.meta.url));

describe("runSupervised on 2 ranks", () => {
  it("gives one process's weights and BN statistics (SyncBN), rank 0 writing", async (t) => {
    const root = mkdtempSync(join(tmpdir(), "kdep-sup-ddp-"));
    const single = join(root, "single");
    const one = await startRank(single, {}, CHILD).done;
    assert.equal(one.code, 0, one.stderr);
    const ddp = join(root, "ddp");
    for (const r of await runScriptJob(CHILD, ddp, 2)) assert.equal(r.code, 0, r.stderr);
    // 32 images, global batch 16: 2 steps an epoch, 2 epochs.
    assert.equal(loadCheckpointFile(join(ddp, "checkpoint.pth")).loop.globalStep, 4);
    assert.ok(existsSync(join(ddp, "model.pth")));
    const d = studentDistance(ddp, single, "model.pth");
    assert.ok(d.worst <= 1e-5, `${d.key} differs by ${d.worst} (relative norm)`);
    t.diagnostic(`worst tensor ${d.key}: ‖Δ‖/‖w‖ = ${d.worst.toExponential(2)}`);
  });
});
