import assert from "node:assert/strict";
import { test } from "node:test";
import {
  fmtDuration,
  fmtMeanSpread,
  fmtPercent,
  halfRange,
  mean,
  spread,
  std,
} from "../../src/report/stats.js";
import { linearTicks, logTicks, wrapLabel } from "../../src/report/svg.js";

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `expected ${b}, got ${a}`);

test("mean, sample std and half-range against hand arithmetic", () => {
  // [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, squared deviations sum 32, sample var 32/7.
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  close(mean(xs), 5);
  close(std(xs), Math.sqrt(32 / 7));
  close(halfRange(xs), 3.5);
  // [75.1, 75.9, 76.2]: mean 75.7333…, deviations −0.6333, 0.1667, 0.4667 → var 0.32333.
  close(mean([75.1, 75.9, 76.2]), 227.2 / 3, 1e-12);
  close(std([75.1, 75.9, 76.2]), Math.sqrt(0.646667 / 2), 1e-5);
  close(spread([1, 3], "half-range"), 1);
  close(spread([1, 3], "std"), Math.SQRT2);
  assert.equal(std([42]), 0);
  assert.ok(Number.isNaN(mean([])));
});

test("formats", () => {
  assert.equal(fmtMeanSpread(75.73333, 0.5686), "75.73 ± 0.57");
  assert.equal(fmtMeanSpread(71, Number.NaN), "71.00");
  assert.equal(fmtDuration(0), "0 s");
  assert.equal(fmtDuration(95.4), "1 min 35 s");
  assert.equal(fmtDuration(120), "2 min");
  assert.equal(fmtDuration(3900), "1 h 05 min");
  assert.equal(fmtPercent(0.1), "10%");
  assert.equal(fmtPercent(0.125), "12.5%");
});

test("axis ticks and label wrapping", () => {
  assert.deepEqual(linearTicks(0, 83), { lo: 0, hi: 100, ticks: [0, 20, 40, 60, 80, 100] });
  assert.deepEqual(linearTicks(50, 83, { lo: true }).ticks, [50, 60, 70, 80, 90]);
  assert.deepEqual(logTicks(0.097, 2.3), {
    lo: 0.05,
    hi: 5,
    ticks: [0.05, 0.1, 0.2, 0.5, 1, 2, 5],
  });
  assert.deepEqual(logTicks(0.002, 300).ticks, [0.002, 0.01, 0.1, 1, 10, 100, 500]);
  assert.deepEqual(wrapLabel("KDEP (SVD + PTS)\n10%", 200, 12), ["KDEP (SVD + PTS)", "10%"]);
  assert.deepEqual(wrapLabel("1×1-conv feature KD", 80, 12), ["1×1-conv", "feature KD"]);
});
