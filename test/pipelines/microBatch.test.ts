// --micro-batch accumulates gradients so that a step equals the full-batch step, also when
// the micro-batch does not divide the batch (the short last chunk weighs by its size).
// Batch norm runs in eval mode here: with batch statistics no split can match (as in
// PyTorch), and what is under test is the weighting of the chunks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createModel } from "../../src/models/registry.js";
import { SGD } from "../../src/optim/index.js";
import { LinearAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import * as T from "../../src/tensor/index.js";
import { assertClose } from "../helpers/torchRef.js";

function stepWith(microBatch: number | undefined): {
  params: Map<string, T.Tensor>;
  losses: Record<string, number>;
} {
  T.manualSeed(0);
  const teacher = createModel("resnet18", { width: 8, numClasses: 5 });
  const student = createModel("resnet18", { width: 4, numClasses: 5 });
  const align = new LinearAlignment(32, 64, 2, null);
  const d = new Distiller(teacher, student, align, { logitWeight: 0.5, ceWeight: 1 });
  d.eval();
  const x = T.randn([6, 3, 32, 32]);
  const y = T.fromArray(Int32Array.from([0, 1, 2, 3, 4, 0])).to("int64");
  const opt = new SGD(d.parameters(), { lr: 0.5, momentum: 0.9, weightDecay: 5e-4 });
  const losses = d.step(x, y, opt, microBatch);
  return { params: d.stateDict(), losses };
}

test("micro-batched steps equal the full-batch step (divisor and non-divisor)", () => {
  const before = T.getNumThreads();
  T.setNumThreads(1);
  try {
    const full = stepWith(undefined);
    for (const mb of [2, 4, 5]) {
      const got = stepWith(mb);
      for (const [k, v] of Object.entries(full.losses)) {
        assert.ok(Math.abs(got.losses[k] - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${k} mb=${mb}`);
      }
      for (const [k, t] of full.params) {
        assertClose(got.params.get(k) as T.Tensor, t, `micro-batch ${mb}: ${k}`, 1e-5, 1e-5);
      }
    }
  } finally {
    T.setNumThreads(before);
  }
});
