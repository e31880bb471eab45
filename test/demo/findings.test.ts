// The demo's verdicts from known numbers: the paired t-test against hand arithmetic and
// closed forms of Student's t (and scipy where Debian's python3-scipy is installed), and the
// exact sentences the report prints.
import assert from "node:assert/strict";
import { test } from "node:test";
import { comparisons, findings } from "../../src/pipelines/demo/findings.js";
import {
  incompleteBeta,
  pairedTTest,
  tCdf,
  tCritical,
  tTwoSided,
} from "../../src/pipelines/demo/pairedTest.js";
import type { DenseTaskResult, MethodResult } from "../../src/pipelines/demo/result.js";
import { seedRuns } from "../../src/pipelines/demo/transferStage.js";
import { runPythonJson } from "../helpers/python.js";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: expected ${b}, got ${a}`);

test("Student's t against its closed forms (df 1: Cauchy, df 2) and I_x(1, 1) = x", () => {
  for (const t of [0, 0.3, 1, 2.5, 12.7, 400]) {
    close(tTwoSided(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-12, `df 1, t ${t}`);
    close(tTwoSided(t, 2), 1 - t / Math.sqrt(2 + t * t), 1e-12, `df 2, t ${t}`);
    close(tCdf(-t, 1), 0.5 - Math.atan(t) / Math.PI, 1e-12, `cdf df 1, t ${-t}`);
  }
  for (const x of [0.01, 0.3, 0.77, 0.999]) close(incompleteBeta(x, 1, 1), x, 1e-13, `x ${x}`);
  // df 1: P(|T| ≥ t) = 0.05 at t = tan(0.475π); df 2: solving 1 − t/√(2+t²) = α with
  // q = 1 − α gives t = √(2q² / (1 − q²)).
  close(tCritical(0.05, 1), Math.tan(0.475 * Math.PI), 1e-8, "t crit df 1");
  close(tCritical(0.05, 2), Math.sqrt((2 * 0.95 ** 2) / (1 - 0.95 ** 2)), 1e-9, "t crit df 2");
});

test("paired t-test: hand arithmetic", () => {
  // diffs [2, 2, 2, 3, 3]: mean 2.4, squared deviations 3·0.16 + 2·0.36 = 1.2, var 0.3,
  // se = √(0.3/5) = 0.244949, t = 2.4 / 0.244949 = 9.797959, df 4.
  const r = pairedTTest([80, 82, 81, 83, 84], [78, 80, 79, 80, 81])!;
  close(r.meanDiff, 2.4, 1e-12, "mean");
  close(r.sdDiff, Math.sqrt(0.3), 1e-12, "sd");
  close(r.t, 2.4 / Math.sqrt(0.06), 1e-9, "t");
  assert.equal(r.df, 4);
  // t(4) 97.5% quantile, every t table: 2.776.
  close(tCritical(0.05, 4), 2.776, 5e-4, "t crit df 4");
  close(r.ci[1] - r.ci[0], 2 * tCritical(0.05, 4) * Math.sqrt(0.06), 1e-12, "CI width");
  assert.equal(pairedTTest([1], [2]), null, "one seed: no test");
  const same = pairedTTest([2, 3, 4], [1, 2, 3])!;
  assert.deepEqual([same.t, same.p], [Infinity, 0], "identical differences");
  assert.throws(() => pairedTTest([1, 2], [1]), /2 values against 1/);
});

test("paired t-test and t quantiles against scipy", () => {
  const cases: [number[], number[]][] = [
    [
      [80, 82, 81, 83, 84],
      [78, 80, 79, 80, 81],
    ],
    [
      [80, 82, 81, 83, 84],
      [79, 83, 80, 84, 82],
    ],
    [
      [88.1, 86.9, 90.2, 87.5, 88.8, 89.0, 86.1],
      [87.2, 87.5, 88.0, 86.1, 88.9, 87.7, 86.6],
    ],
    [
      [50, 52],
      [49, 52.5],
    ],
  ];
  const ref = runPythonJson<{ t: number; p: number; lo: number; hi: number }[]>(
    `
import json, sys
import numpy as np
from scipy import stats
out = []
for a, b in json.loads(sys.argv[1]):
    r = stats.ttest_rel(a, b)
    d = np.array(a) - np.array(b)
    h = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    out.append({"t": r.statistic, "p": r.pvalue, "lo": d.mean() - h, "hi": d.mean() + h})
print(json.dumps(out))
`,
    [JSON.stringify(cases)],
  );
  cases.forEach(([a, b], i) => {
    const r = pairedTTest(a, b)!;
    close(r.t, ref[i].t, 1e-9, `case ${i} t`);
    close(r.p, ref[i].p, 1e-10, `case ${i} p`);
    close(r.ci[0], ref[i].lo, 1e-8, `case ${i} CI low`);
    close(r.ci[1], ref[i].hi, 1e-8, `case ${i} CI high`);
  });
  const cdf = runPythonJson<number[]>(
    "import json; from scipy import stats; print(json.dumps([stats.t.cdf(t, df) for t, df in [(-3.1, 3), (0.4, 9), (1.7, 30), (-0.05, 2.5)]]))",
  );
  [
    [-3.1, 3],
    [0.4, 9],
    [1.7, 30],
    [-0.05, 2.5],
  ].forEach(([t, df], i) => {
    close(tCdf(t, df), cdf[i], 1e-12, `cdf(${t}, ${df})`);
  });
});

const method = (id: string, label: string, data: string, s: number, ft: number[]) =>
  ({
    id,
    label,
    data,
    pretrainSeconds: s,
    downstream: seedRuns(ft),
    probe: seedRuns(ft.map((v) => v - 10)),
  }) satisfies MethodResult;

test("verdict sentences from known numbers: 'beats' only where the test says so", () => {
  const methods = [
    method("random", "Random init", "—", 0, [79, 83, 80, 84, 82]),
    method("kdep", "KDEP (SVD + PTS)", "10%", 120, [80, 82, 81, 83, 84]),
    method("sup10", "Supervised", "10%", 60, [78, 80, 79, 80, 81]),
    method("sup100", "Supervised", "100%", 600, [83, 84, 84, 85, 87]),
  ];
  const f = findings(methods);
  // Fine-tuned and linear probe per baseline; the probes here are the fine-tuned values
  // minus 10, so each pair of sentences carries the same test.
  assert.equal(f.length, 6);
  assert.equal(
    f[0],
    "Fine-tuned: KDEP is 0.40 points ahead of Random init, but the test does not separate them at the 5% level (paired t-test over 5 seeds: t(4) = 0.67, p = 0.541; 95% CI of the difference [-1.27, 2.07]): not a clear win.",
  );
  assert.equal(
    f[2],
    "Fine-tuned: KDEP beats Supervised on 10% by 2.40 points (paired t-test over 5 seeds: t(4) = 9.80, p < 0.001; 95% CI of the difference [1.72, 3.08]); pre-training took 120 s for KDEP vs 60 s.",
  );
  assert.equal(
    f[3],
    "Linear probe: KDEP beats Supervised on 10% by 2.40 points (paired t-test over 5 seeds: t(4) = 9.80, p < 0.001; 95% CI of the difference [1.72, 3.08]).",
  );
  assert.equal(
    f[4],
    "Fine-tuned: KDEP does not beat Supervised on 100%: it is 2.60 points behind, a gap the test finds real (paired t-test over 5 seeds: t(4) = -10.61, p < 0.001; 95% CI of the difference [-3.28, -1.92]); pre-training took 120 s for KDEP vs 600 s.",
  );
  for (const s of f.filter((x) => x.includes("beats")))
    assert.ok(/p < 0\.001|p = 0\.0[0-4]/.test(s), `"beats" rests on p < 0.05: ${s}`);
  const c = comparisons(methods);
  assert.deepEqual(
    c.map((x) => `${x.baseline}/${x.protocol}`),
    [
      "random/fine-tune",
      "random/linear probe",
      "sup10/fine-tune",
      "sup10/linear probe",
      "sup100/fine-tune",
      "sup100/linear probe",
    ],
  );
  assert.deepEqual(findings([methods[0]]), [], "no KDEP row, no findings");
  const one = findings([
    method("kdep", "KDEP (SVD + PTS)", "10%", 0, [80]),
    method("random", "Random init", "—", 0, [78]),
  ]);
  assert.equal(
    one[0],
    "Fine-tuned: KDEP − Random init = 2.00 points on a single seed: no test possible, no verdict.",
  );
});

test("dense tasks: one paired comparison per baseline on each task's own metric, with its sentence", () => {
  const methods = [
    method("random", "Random init", "—", 0, [79, 83, 80]),
    method("kdep", "KDEP (SVD + PTS)", "10%", 120, [80, 82, 81]),
    method("sup10", "Supervised", "10%", 60, [78, 80, 79]),
  ];
  const dense: DenseTaskResult[] = [
    {
      task: "segmentation",
      metric: "mIoU",
      seeds: [0, 1, 2],
      // KDEP − random: [2, 2, 3] → mean 2.333, sd 0.57735, t = 2.333 / (0.57735/√3) = 7.00.
      // KDEP − sup10: [-1, 1, 0] → mean 0, level.
      byMethod: {
        random: seedRuns([30, 31, 29]),
        kdep: seedRuns([32, 33, 32]),
        sup10: seedRuns([33, 32, 32]),
      },
    },
    {
      task: "detection",
      metric: "AP50",
      seeds: [0],
      byMethod: { random: seedRuns([20]), kdep: seedRuns([18.5]) },
      also: { metric: "AP", byMethod: { random: seedRuns([7]), kdep: seedRuns([6]) } },
    },
  ];
  const c = comparisons(methods, 0.95, dense);
  assert.deepEqual(
    c.slice(4).map((x) => `${x.baseline}/${x.protocol}/${x.metric}`),
    ["random/segmentation/mIoU", "sup10/segmentation/mIoU", "random/detection/AP50"],
    "after the classification comparisons; a baseline without a dense run is left out",
  );
  const f = findings(methods, 0.95, dense);
  assert.equal(f.length, 7);
  const t = pairedTTest([32, 33, 32], [30, 31, 29])!;
  close(t.t, 7, 1e-9, "t");
  assert.equal(
    f[4],
    `Segmentation (mIoU): KDEP beats Random init by 2.33 points (paired t-test over 3 seeds: t(2) = 7.00, p = ${t.p.toFixed(3)}; 95% CI of the difference [${t.ci[0].toFixed(2)}, ${t.ci[1].toFixed(2)}]).`,
  );
  assert.ok(t.p < 0.05 && t.p > 0.01, `p ${t.p}`);
  assert.match(
    f[5],
    /^Segmentation \(mIoU\): KDEP and Supervised on 10% are level \(paired t-test over 3 seeds: t\(2\) = 0\.00, p = 1\.000;/,
  );
  assert.equal(
    f[6],
    "Detection (AP50): KDEP − Random init = -1.50 points on a single seed: no test possible, no verdict.",
  );
});
