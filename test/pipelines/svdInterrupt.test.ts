// A pass that dies after the teacher pass (during the eigendecomposition or while writing the
// results) keeps the finished accumulators: running again writes the same V without loading
// a single image.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Dataset } from "../../src/data/datasets/dataset.js";
import { createModel } from "../../src/models/registry.js";
import { runSvd, SVD_FILES } from "../../src/pipelines/kdep/svdPass.js";
import * as T from "../../src/tensor/index.js";
import { fmnistSmall, TRAIN_32 } from "./fixtures/fmnist.js";

describe("SVD pass interrupted after the teacher pass", () => {
  it("resumes from the saved accumulators and gives the uninterrupted result", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kdep-svd-kill-"));
    T.manualSeed(1);
    const teacher = createModel("resnet18", { numClasses: 0, width: 8, preReluFeature: true });
    const data = await fmnistSmall(10);
    const common = {
      teacher,
      teacherId: "resnet18@kill",
      transform: TRAIN_32,
      batchSize: 32,
      workers: 0,
      seed: 5,
      progress: "quiet" as const,
    };
    const whole = join(dir, "whole");
    await runSvd({ ...common, data, out: whole });

    // A directory where V.npy goes makes writing the results fail after the pass.
    const broken = join(dir, "broken");
    mkdirSync(join(broken, SVD_FILES.V), { recursive: true });
    await assert.rejects(runSvd({ ...common, data, out: broken }));
    assert.ok(existsSync(join(broken, "svd_state.pth")), "the finished pass is on disk");
    rmSync(join(broken, SVD_FILES.V), { recursive: true });

    // Same length, every file missing: loading any batch would fail the run.
    const missing = new Dataset({
      ...data.spec,
      source: {
        kind: "files",
        paths: Array.from(data.spec.labels, (_, i) => join(dir, `${i}.png`)),
      },
    });
    const again = await runSvd({ ...common, data: missing, out: broken });
    assert.equal(again.manifest.count, 100);
    for (const f of [SVD_FILES.V, SVD_FILES.mean, SVD_FILES.sigma])
      assert.ok(readFileSync(join(broken, f)).equals(readFileSync(join(whole, f))), f);
    assert.equal(existsSync(join(broken, "svd_state.pth")), false);
  });
});
