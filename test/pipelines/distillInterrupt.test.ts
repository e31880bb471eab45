// Ctrl-C on the real `kdep distill` command: the run stops at a step boundary with a whole
// checkpoint and exit code 0, and `--resume` ends bit for bit where an uninterrupted run
// ends (one thread). A second Ctrl-C never tears a checkpoint (quitting at once is tested in
// interrupt.test.ts). The signals are sent by the run itself at exact points (faultHook.ts),
// so the stop step is known and nothing races.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { loadStateDictFile, saveStateDict } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { type CliOptions, runCli } from "../helpers/cli.js";
import type { FaultTrigger } from "../helpers/faultHook.js";
import { fmnistFolder } from "./fixtures/fmnistFolder.js";

const PER_CLASS = 6;
const STEPS_PER_EPOCH = 15; // 10 classes × 6 images, batch 4
const EPOCHS = 2;

type Event = { event: string } & Record<string, number | string>;

function events(run: string): Event[] {
  const p = join(run, "metrics.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.endsWith("}"))
    .map((l) => JSON.parse(l) as Event);
}

const temps = (run: string) => readdirSync(run).filter((f) => f.endsWith(".tmp"));

/** The resumed student equals the uninterrupted one bit for bit. */
function assertSameStudent(run: string, reference: string): void {
  const a = loadStateDictFile(join(reference, "student.pth")).stateDict;
  const b = loadStateDictFile(join(run, "student.pth")).stateDict;
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, t] of a) {
    assert.ok(Buffer.from(t.toBytes()).equals(Buffer.from(b.get(k)!.toBytes())), `resumed ${k}`);
  }
}

// One thread: reductions then run in one order, so equal inputs give equal bits.
const ONE_THREAD: CliOptions = { env: { KDEP_NUM_THREADS: "1" } };
/** Ctrl-C right after the step-10 metrics line (train_step is logged every 10 steps). */
const SIGINT_AT_STEP_10: FaultTrigger = {
  on: "append",
  file: "metrics.jsonl",
  contains: "train_step",
  count: 1,
  signal: "SIGINT",
};

/** The checkpoint loads and its position is the one the log's "stopped" event states. */
function assertStoppedCheckpoint(run: string): void {
  const ck = loadCheckpointFile(join(run, "checkpoint.pth"));
  const stopped = events(run).find((e) => e.event === "distill/stopped");
  assert.ok(stopped, "a distill/stopped event in metrics.jsonl");
  assert.deepEqual(
    { epoch: ck.loop.epoch, step: ck.loop.step, global_step: ck.loop.globalStep },
    { epoch: stopped.epoch, step: stopped.step, global_step: stopped.global_step },
  );
  assert.equal(ck.loop.globalStep, ck.loop.epoch * STEPS_PER_EPOCH + ck.loop.step);
  assert.ok(ck.loop.epoch < EPOCHS, "stopped before the end");
  assert.equal(ck.history.length, ck.loop.epoch, "one history row per finished epoch");
  const logged = events(run).filter((e) => e.event === "distill/train_step");
  assert.ok(logged.length > 0 && Number(logged.at(-1)?.global_step) <= ck.loop.globalStep);
  assert.deepEqual(temps(run), [], "no temp files left");
}

describe("kdep distill and Ctrl-C", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-sigint-"));
  const args = (out: string) => [
    "distill",
    ...["--data", root, "--svd", join(root, "svd"), "--teacher", "resnet18"],
    ...["--teacher-weights", "random"],
    ...["--image-size", "32", "--batch-size", "4", "--epochs", String(EPOCHS)],
    ...["--lr", "0.05", "--lr-step", "1", "--val-every", "1", "--workers", "1"],
    ...["--seed", "1", "--out", out],
  ];
  const full = join(root, "full");

  before(async () => {
    await fmnistFolder(root, PER_CLASS, 1);
    const svd = await runCli(
      [
        "svd",
        ...["--data", root, "--teacher", "resnet18", "--teacher-weights", "random"],
        ...["--image-size", "32"],
        ...["--batch-size", "30", "--workers", "1", "--seed", "1", "--out", join(root, "svd")],
      ],
      ONE_THREAD,
    );
    assert.equal(svd.code, 0, svd.stderr);
    const r = await runCli(args(full), ONE_THREAD);
    assert.equal(r.code, 0, r.stderr);
    const ck = loadCheckpointFile(join(full, "checkpoint.pth"));
    assert.equal(ck.loop.globalStep, EPOCHS * STEPS_PER_EPOCH);
  });

  it("stops at a step boundary with exit 0 and a whole checkpoint; --resume ends where an uninterrupted run ends", async () => {
    const out = join(root, "once");
    const r = await runCli(args(out), { ...ONE_THREAD, faults: [SIGINT_AT_STEP_10] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Stopped in epoch 1 after step 10; continue with the same command/);
    assertStoppedCheckpoint(out);
    // The signal came during step 10: the run stops after that step, not at the epoch's end.
    const stoppedAt = loadCheckpointFile(join(out, "checkpoint.pth")).loop;
    assert.deepEqual([stoppedAt.epoch, stoppedAt.step], [0, 10]);

    const resumed = await runCli([...args(out), "--resume"], ONE_THREAD);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(events(out).some((e) => e.event === "distill/resume"));
    const a = loadCheckpointFile(join(full, "checkpoint.pth"));
    const b = loadCheckpointFile(join(out, "checkpoint.pth"));
    assert.deepEqual(b.loop.epoch, EPOCHS);
    assert.deepEqual(b.loop.globalStep, a.loop.globalStep);
    assert.deepEqual(
      b.history.map((h) => h.epoch),
      [1, 2],
    );
    assert.equal(b.optimizer.param_groups[0].lr, a.optimizer.param_groups[0].lr);
    assertSameStudent(out, full);
  });

  it("a second Ctrl-C while the stop checkpoint is written cannot tear it", async () => {
    const out = join(root, "during-write");
    // The second signal arrives halfway through writing the stop checkpoint.
    const secondDuringWrite: FaultTrigger = {
      on: "write",
      file: "checkpoint.pth",
      count: 1,
      signal: "SIGINT",
    };
    const r = await runCli(args(out), {
      ...ONE_THREAD,
      faults: [SIGINT_AT_STEP_10, secondDuringWrite],
    });
    // The write is synchronous: the signal waits for it, and reaches no handler afterwards
    // (the stop is done by then), so the run ends as after one Ctrl-C.
    assert.equal(r.code, 0, r.stderr);
    assertStoppedCheckpoint(out);
    assert.equal(loadCheckpointFile(join(out, "checkpoint.pth")).loop.step, 10);
    const resumed = await runCli([...args(out), "--resume"], ONE_THREAD);
    assert.equal(resumed.code, 0, resumed.stderr);
    assertSameStudent(out, full);
  });

  it("refuses to overwrite a run without --resume, and an SVD computed for another teacher", async () => {
    const again = await runCli(args(full), ONE_THREAD);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a checkpoint: .*--resume/);
    // A real weights file: its teacher is not the random one the SVD was computed for.
    const weights = join(root, "other-teacher.pth");
    const m = createModel("resnet18");
    saveStateDict(weights, m.stateDict());
    m.dispose();
    const out = join(root, "other");
    const withOther = args(out).map((a) => (a === "random" ? weights : a));
    const r = await runCli(withOther, ONE_THREAD);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /The SVD in .*svd was computed for teacher "resnet18@random-seed1", but this run's teacher is "resnet18@[0-9a-f]{16}"\. Run `kdep svd` with this teacher\./,
    );
    assert.ok(!existsSync(join(out, "checkpoint.pth")), "nothing trained");
  });
});
