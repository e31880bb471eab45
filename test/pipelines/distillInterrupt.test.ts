// Ctrl-C on the real `kdep distill` command: the run stops at a step boundary with a whole
// checkpoint and exit code 0, and `--resume` ends exactly where an uninterrupted run ends. A
// second Ctrl-C never tears a checkpoint (quitting at once is tested in interrupt.test.ts).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { loadStateDictFile } from "../../src/io/tensors.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { runCli, startCli, waitFor } from "../helpers/cli.js";
import { assertClose } from "../helpers/torchRef.js";
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

function assertSameStudent(run: string, reference: string): void {
  const a = loadStateDictFile(join(reference, "student.pth")).stateDict;
  const b = loadStateDictFile(join(run, "student.pth")).stateDict;
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, t] of a) assertClose(b.get(k)!, t, `resumed ${k}`, 1e-5, 1e-6);
}

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
    ...["--image-size", "32", "--batch-size", "4", "--epochs", String(EPOCHS)],
    ...["--lr", "0.05", "--lr-step", "1", "--val-every", "1", "--workers", "1"],
    ...["--seed", "1", "--out", out],
  ];
  const full = join(root, "full");

  before(async () => {
    await fmnistFolder(root, PER_CLASS, 1);
    const svd = await runCli([
      "svd",
      ...["--data", root, "--teacher", "resnet18", "--image-size", "32"],
      ...["--batch-size", "30", "--workers", "1", "--seed", "1", "--out", join(root, "svd")],
    ]);
    assert.equal(svd.code, 0, svd.stderr);
    const r = await runCli(args(full));
    assert.equal(r.code, 0, r.stderr);
    const ck = loadCheckpointFile(join(full, "checkpoint.pth"));
    assert.equal(ck.loop.globalStep, EPOCHS * STEPS_PER_EPOCH);
  });

  /** Starts an interrupted run; resolves once it has trained 10 steps. */
  async function startTrained(out: string) {
    const run = startCli(args(out));
    let exited = false;
    void run.done.then(() => {
      exited = true;
    });
    const alive = () => !exited;
    await waitFor(() => events(out).some((e) => e.event === "distill/train_step"), "10 steps", {
      ms: 20,
      alive,
    });
    return { run, alive };
  }

  it("stops at a step boundary with exit 0 and a whole checkpoint; --resume ends where an uninterrupted run ends", async () => {
    const out = join(root, "once");
    const { run } = await startTrained(out);
    run.child.kill("SIGINT");
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Stopped in epoch 1 after step \d+; continue with the same command/);
    assertStoppedCheckpoint(out);
    // Seen within two steps (the signal went out at step 10), not at the epoch's end: ready
    // batches must not keep the handler from running.
    const stoppedAt = loadCheckpointFile(join(out, "checkpoint.pth")).loop;
    assert.ok(stoppedAt.epoch === 0 && stoppedAt.step <= 12, `stopped at ${stoppedAt.step}`);

    const resumed = await runCli([...args(out), "--resume"]);
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
    const { run, alive } = await startTrained(out);
    run.child.kill("SIGINT");
    // After the handler has run, the next write in the run folder is the stop checkpoint.
    await waitFor(() => run.stderr().includes("SIGINT received"), "the first signal", { alive });
    await waitFor(() => temps(out).length > 0, "the checkpoint's temp file", { ms: 1, alive });
    run.child.kill("SIGINT");
    // The write is synchronous: the signal waits for it, and reaches no handler afterwards
    // (the stop is done by then), so the run ends as after one Ctrl-C.
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assertStoppedCheckpoint(out);
    const resumed = await runCli([...args(out), "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assertSameStudent(out, full);
  });
});
