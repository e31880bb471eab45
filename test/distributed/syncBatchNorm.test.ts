// SyncBatchNorm over 2 ranks holding 3 and 5 rows of one batch gives, on each rank, plain
// BatchNorm's output on the whole batch bit for bit (ATen's rounding of the normalisation,
// the property a C4 detection head's many ReLUs need), its input and parameter gradients to
// float rounding, and its running statistics; the statistics weight each rank by its count.
// [N, C] input matches to rounding only: there ATen's own result depends on its threads.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runScriptJob } from "./ranks.js";

const CHILD = fileURLToPath(new URL("./fixtures/syncBnChild.js", import.meta.url));

interface Line {
  shape: number[];
  differ: number;
  worst: number;
  values: number;
  gradX: number;
  gradW: number;
  gradB: number;
  runningMean: number;
  runningVar: number;
}

describe("SyncBatchNorm", () => {
  it("equals BatchNorm on the whole batch, with uneven rows per rank (2-D, 3-D, 4-D)", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "kdep-syncbn-"));
    const runs = await runScriptJob(CHILD, dir, 2);
    for (const [r, run] of runs.entries()) assert.equal(run.code, 0, `rank ${r}: ${run.stderr}`);
    for (const r of [0, 1]) {
      const lines = JSON.parse(readFileSync(join(dir, `rank${r}.json`), "utf8")) as Line[];
      assert.equal(lines.length, 3);
      for (const l of lines) {
        const at = `rank ${r}, input [${l.shape}]`;
        if (l.shape.length > 2)
          assert.equal(l.differ, 0, `${at}: ${l.differ} of ${l.values} output values differ`);
        else assert.ok(l.worst <= 1e-6, `${at}: output differs by ${l.worst}`);
        for (const k of ["gradX", "gradW", "gradB", "runningMean", "runningVar"] as const)
          assert.ok(l[k] <= 1e-6, `${at}: ${k} differs by ${l[k]} (relative to its largest)`);
        t.diagnostic(
          `${at}: gradients ${[l.gradX, l.gradW, l.gradB].map((v) => v.toExponential(1))}`,
        );
      }
    }
  });
});
