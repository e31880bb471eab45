// ClassificationMeter from hand-computed values: top-1, top-5 and the mean of per-class
// accuracies (which differs from top-1 when classes are unbalanced).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassificationMeter } from "../../src/pipelines/transfer/metrics.js";
import * as T from "../../src/tensor/index.js";

/** Logits whose ranking for each row is the given class order (first = highest). */
function logits(orders: number[][], classes: number): T.Tensor {
  const out = new Float32Array(orders.length * classes);
  orders.forEach((order, i) => {
    order.forEach((c, rank) => {
      out[i * classes + c] = 10 - rank;
    });
  });
  return T.fromArray(out, [orders.length, classes]);
}

test("top-1, top-5 and mean-per-class over several batches", () => {
  const m = new ClassificationMeter(7);
  // Batch 1: labels 0,0,0,1. Row 0 right; row 1 label at rank 3 (top-5 only); row 2 label at
  // rank 6 (missed); row 3 right.
  m.add(
    logits(
      [
        [0, 1, 2, 3, 4, 5, 6],
        [1, 2, 0, 3, 4, 5, 6],
        [1, 2, 3, 4, 5, 6, 0],
        [1, 0, 2, 3, 4, 5, 6],
      ],
      7,
    ),
    T.fromArray(Int32Array.from([0, 0, 0, 1])).to("int64"),
  );
  // Batch 2: labels 2 (rank 5: outside the top 5), 6 (right).
  m.add(
    logits(
      [
        [0, 1, 3, 4, 5, 2, 6],
        [6, 0, 1, 2, 3, 4, 5],
      ],
      7,
    ),
    T.fromArray(Int32Array.from([2, 6])).to("int64"),
  );
  const r = m.result();
  assert.equal(r.count, 6);
  assert.equal(r.top1, (100 * 3) / 6); // rows 0, 3 of batch 1 and row 1 of batch 2
  assert.equal(r.top5, (100 * 4) / 6); // plus row 1 of batch 1
  // Per class: 0 → 1/3, 1 → 1, 2 → 0, 6 → 1; classes 3–5 have no samples and do not count.
  assert.ok(Math.abs(r.meanPerClass - (100 * (1 / 3 + 1 + 0 + 1)) / 4) < 1e-9);
});

test("fewer than five classes: top-5 is over all of them", () => {
  const m = new ClassificationMeter(3);
  m.add(logits([[2, 1, 0]], 3), T.fromArray(Int32Array.from([0])).to("int64"));
  assert.deepEqual(m.result(), { top1: 0, top5: 100, meanPerClass: 0, count: 1 });
});
