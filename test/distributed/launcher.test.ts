// `kdep distill … --nproc-per-node 2`: the command starts its own two ranks; rank 0 alone
// writes the run folder; Ctrl-C on the launcher stops both ranks at the same step with one
// whole checkpoint, and --resume finishes the run.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { runCli, startCli, waitFor } from "../helpers/cli.js";
import { fmnistFolder } from "../pipelines/fixtures/fmnistFolder.js";
import { writeTextureFolder } from "../pipelines/fixtures/patterns.js";

const PER_CLASS = 4; // 40 images, global batch 8: 5 steps an epoch
const EPOCHS = 1;

type Event = { event: string } & Record<string, number | string>;

function events(run: string): Event[] {
  const p = join(run, "metrics.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.endsWith("}"))
    .map((l) => JSON.parse(l) as Event);
}

describe("kdep distill --nproc-per-node 2", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-launch-"));
  const args = (out: string) => [
    "distill",
    ...[
      "--data",
      root,
      "--teacher",
      "resnet18",
      "--teacher-weights",
      "random",
      "--align",
      "none",
      "--image-size",
      "32",
    ],
    ...["--batch-size", "8", "--epochs", String(EPOCHS), "--lr", "0.01", "--val-every", "0"],
    ...["--workers", "1", "--checkpoint-every", "2", "--out", out, "--nproc-per-node", "2"],
  ];
  before(async () => {
    await fmnistFolder(root, PER_CLASS, 1);
  });

  it("Ctrl-C stops both ranks at one step with one checkpoint; --resume finishes", async () => {
    const out = join(root, "run");
    const run = startCli(args(out));
    let exited = false;
    void run.done.then(() => {
      exited = true;
    });
    await waitFor(() => existsSync(join(out, "checkpoint.pth")), "a first checkpoint", {
      ms: 10,
      timeoutMs: 120_000,
      alive: () => !exited,
    });
    run.child.kill("SIGINT");
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    // Only rank 0 reports, once.
    assert.equal(r.stdout.match(/Stopped in epoch/g)?.length, 1, r.stdout);
    assert.equal(r.stderr.match(/SIGINT received/g)?.length, 2, "each rank got the signal once");
    const ck = loadCheckpointFile(join(out, "checkpoint.pth"));
    const stopped = events(out).find((e) => e.event === "distill/stopped");
    assert.ok(stopped, "a distill/stopped event");
    assert.equal(stopped.global_step, ck.loop.globalStep);
    assert.ok(ck.loop.globalStep < EPOCHS * 5);
    assert.deepEqual(
      readdirSync(out).filter((f) => f.endsWith(".tmp")),
      [],
    );

    const resumed = await runCli([...args(out), "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const done = loadCheckpointFile(join(out, "checkpoint.pth"));
    assert.equal(done.loop.globalStep, EPOCHS * 5);
    assert.equal(events(out).filter((e) => e.event === "distill/resume").length, 1);
    assert.ok(existsSync(join(out, "student.pth")));
  });
});

describe("kdep transfer cls --nproc-per-node 2", () => {
  it("trains and evaluates as two ranks; rank 0 alone reports and writes the results", async () => {
    const root = mkdtempSync(join(tmpdir(), "kdep-launch-cls-"));
    await writeTextureFolder(
      join(root, "data"),
      ["stripes0", "stripes90", "rings"],
      { train: 16, test: 6 },
      { seed: 3 },
    );
    const out = join(root, "run");
    const r = await runCli([
      ...["transfer", "cls", "--dataset", "imagefolder", "--data", join(root, "data")],
      ...["--weights", "none", "--width", "8", "--epochs", "2", "--batch-size", "8"],
      ...["--lr", "0.01", "--eval-every", "1", "--image-size", "32", "--resize", "36"],
      ...["--workers", "1", "--out", out, "--nproc-per-node", "2"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^run 0: best top-1/gm)?.length, 1, r.stdout);
    const result = JSON.parse(readFileSync(join(out, "run0", "result.json"), "utf8"));
    assert.equal(result.history.length, 2);
    // 48 training images, global batch 8: 6 steps an epoch over both ranks.
    assert.equal(loadCheckpointFile(join(out, "run0", "checkpoint.pth")).loop.globalStep, 12);
  });
});
