// fp16's loss scaler across an interruption: its scale and growth tracker are saved in
// checkpoint.pth and restored by resume, so an interrupted run ends where an uninterrupted
// one does. fp16 autocast needs CUDA, so on the CPU the scaler runs without autocast (the
// lossScaling hook): the bookkeeping under test is the same.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createModel } from "../../src/models/registry.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { runDistill } from "../../src/pipelines/kdep/distill.js";
import { DistillConfigSchema } from "../../src/pipelines/kdep/distillConfig.js";
import * as T from "../../src/tensor/index.js";
import { fmnistSmall, TRAIN_32 } from "./fixtures/fmnist.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-scaler-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Large enough that the first steps overflow (skipped, scale halved), then it grows every
// two finite steps: both directions happen within the run.
const INIT_SCALE = 2 ** 126;

async function run(out: string, stopAfterSteps?: number) {
  T.manualSeed(11);
  const config = DistillConfigSchema.parse({
    teacher: "resnet18",
    student: "resnet18",
    align: "none",
    epochs: 2,
    batchSize: 4,
    lr: 0.05,
    workers: 0,
    seed: 3,
    out,
    valEvery: 0,
  });
  return runDistill({
    config,
    teacher: createModel("resnet18", { numClasses: 0, width: 8 }),
    student: () => createModel("resnet18", { numClasses: 0, width: 8 }),
    train: await fmnistSmall(1),
    trainTransform: TRAIN_32,
    progress: "quiet",
    lossScaling: { initScale: INIT_SCALE, growthInterval: 2 },
    stopAfterSteps,
  });
}

const scalerOf = (out: string) => {
  const s = loadCheckpointFile(join(out, "checkpoint.pth")).state.scaler;
  assert.ok(s instanceof Map, "checkpoint.pth holds the scaler's state");
  return Object.fromEntries([...s].map(([k, v]) => [k, Number(v)]));
};

describe("GradScaler state in checkpoints", () => {
  it("an interrupted and resumed run equals an uninterrupted one, scale included", async () => {
    const threads = T.getNumThreads();
    T.setNumThreads(1); // bit-for-bit comparison
    try {
      const whole = join(dir, "whole");
      await run(whole);
      const split = join(dir, "split");
      const first = await run(split, 3); // mid-epoch, the growth tracker at 1 or 0
      assert.equal(first.stopped, true);
      const mid = scalerOf(split);
      await run(split);
      assert.match(readFileSync(join(split, "metrics.jsonl"), "utf8"), /distill\/resume/);

      const [a, b] = [scalerOf(whole), scalerOf(split)];
      assert.deepEqual(b, a);
      // 10 steps: overflowing ones halved the scale, finite ones doubled it every 2 steps.
      assert.ok(a.scale < INIT_SCALE * 2 ** 5 && a.scale !== INIT_SCALE, `scale ${a.scale}`);
      assert.ok(mid.scale < INIT_SCALE, "the first steps overflowed");
      const sa = readFileSync(join(whole, "student.pth"));
      assert.ok(readFileSync(join(split, "student.pth")).equals(sa), "same student bytes");
    } finally {
      T.setNumThreads(threads);
    }
  });
});
