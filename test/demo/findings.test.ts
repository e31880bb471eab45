// The demo's verdict sentences from known numbers: a clear win (gap above the summed seed
// spreads), a lead within the spread, a loss, and the pre-training time clause.
import assert from "node:assert/strict";
import { test } from "node:test";
import { findings } from "../../src/pipelines/demo/findings.js";
import type { MethodResult } from "../../src/pipelines/demo/result.js";

const method = (
  id: string,
  label: string,
  data: string,
  mean: number,
  spread: number,
  seconds: number,
): MethodResult => ({
  id,
  label,
  data,
  pretrainSeconds: seconds,
  downstream: { runs: [mean - spread, mean + spread], mean, spread },
});

test("verdicts: clear win, within the spread, behind; time only where there was pre-training", () => {
  const methods = [
    method("kdep", "KDEP (SVD + PTS)", "10%", 80, 0.5, 120.4),
    method("random", "Random init", "—", 70, 1, 0),
    method("sup10", "Supervised", "10%", 79.5, 0.25, 60),
    method("sup100", "Supervised", "100%", 81.25, 0.5, 600),
  ];
  assert.deepEqual(findings(methods), [
    "KDEP beats Random init by 10.00 points (more than the seed spread, 1.50).",
    "KDEP is ahead of Supervised on 10% by 0.50 points, within the seed spread (0.75): not a clear win; pre-training took 120 s for KDEP vs 60 s.",
    "KDEP does not beat Supervised on 100%: 1.25 points behind (seed spread 1.00); pre-training took 120 s for KDEP vs 600 s.",
  ]);
});

test("a gap equal to the spread is not a clear win; no KDEP row, no findings", () => {
  const tie = [
    method("kdep", "KDEP", "10%", 71, 0.5, 1),
    method("random", "Random init", "—", 70, 0.5, 0),
  ];
  assert.match(
    findings(tie)[0],
    /^KDEP is ahead of Random init by 1\.00 points, within the seed spread/,
  );
  assert.deepEqual(findings([method("random", "Random init", "—", 70, 1, 0)]), []);
});
