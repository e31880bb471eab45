// `kdep transfer seg` as 2 data-parallel ranks (--nproc-per-node, SyncBN on by default) ends
// with the weights and BN running statistics of one process with the whole batch: the
// augmentation is keyed per sample, BN statistics span the global batch, and the loss is a
// mean over the global batch's valid pixels (the random scale/rotation pads with ignored
// pixels, in different amounts on each rank). Dropout draws per rank, so it is 0 here. The
// lr is small: with flat canvas backgrounds a larger one makes the few steps chaotic (one
// process with 1 vs 2 threads then already differs by ~1e-5 in the near-zero BN biases).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/distributed/launch.js";
import { loadStateDictFile } from "../../src/io/tensors.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { CLI, runCli } from "../helpers/cli.js";
import { PYTHON } from "../helpers/python.js";
import { studentDistance } from "./ranks.js";

const ENV = { KDEP_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };
const TORCHRUN = fileURLToPath(new URL("../../../scripts/torchrun.py", import.meta.url));

describe("kdep transfer seg --nproc-per-node 2", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-seg-ddp-"));
  const task = join(root, "task");
  const segArgs = (out: string) => [
    ...["transfer", "seg", "--dataset", "folder", "--data", task, "--weights", "none"],
    ...["--width", "8", "--head-channels", "16", "--crop", "40", "--base-size", "48"],
    ...["--batch-size", "4", "--epochs", "2", "--lr", "0.001", "--dropout", "0"],
    ...["--eval-every", "0", "--save-images", "0", "--workers", "0", "--out", out],
  ];
  const seg = (out: string, extra: string[] = []) =>
    runCli([...segArgs(out), ...extra], { env: ENV });

  before(async () => {
    const r = await runCli(
      ["transfer", "seg-task", "--out", task, "--train", "8", "--val", "2", "--size", "48"],
      { env: ENV },
    );
    assert.equal(r.code, 0, r.stderr);
  });

  it("2 ranks × 2 images give 1 process × 4 images' weights and BN statistics", async (t) => {
    const single = join(root, "single");
    const one = await seg(single);
    assert.equal(one.code, 0, one.stderr);
    const ddp = join(root, "ddp");
    const two = await seg(ddp, ["--nproc-per-node", "2"]);
    assert.equal(two.code, 0, two.stderr);
    assert.equal(two.stdout.match(/best mIoU/g)?.length, 1, "rank 0 alone reports");
    // 8 images, global batch 4: 2 steps an epoch, 4 in all, on both runs.
    assert.equal(loadCheckpointFile(join(ddp, "checkpoint.pth")).loop.globalStep, 4);
    const sd = loadStateDictFile(join(ddp, "model.pth")).stateDict;
    const bn = [...sd.keys()].filter((k) => k.endsWith("running_var"));
    assert.ok(bn.length > 10, "the model's BN statistics are compared too");
    const d = studentDistance(ddp, single, "model.pth");
    assert.ok(d.worst <= 1e-5, `${d.key} differs by ${d.worst} (relative norm)`);
    t.diagnostic(`worst tensor ${d.key}: ‖Δ‖/‖w‖ = ${d.worst.toExponential(2)}`);
    const result = JSON.parse(readFileSync(join(ddp, "result.json"), "utf8"));
    assert.equal(result.history.length, 2);
  });

  it("--no-sync-bn keeps per-rank statistics (and so differs from one process)", async (t) => {
    const out = join(root, "nosync");
    const r = await seg(out, ["--nproc-per-node", "2", "--no-sync-bn"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).syncBn, false);
    const d = studentDistance(out, join(root, "single"), "model.pth");
    assert.ok(d.worst > 1e-4, `without SyncBN the run should differ, worst ${d.worst}`);
    t.diagnostic(`without SyncBN: worst tensor ${d.key}, ‖Δ‖/‖w‖ = ${d.worst.toExponential(2)}`);
  });

  it("under torchrun (its agent store) trains as under --nproc-per-node", async () => {
    const out = join(root, "torchrun");
    const port = String(await freePort());
    const r = spawnSync(
      PYTHON,
      [
        ...[TORCHRUN, "--nproc_per_node", "2", "--master_port", port, "--no_python"],
        ...[process.execPath, CLI, ...segArgs(out)],
      ],
      { env: { ...process.env, ...ENV }, encoding: "utf8", timeout: 300_000 },
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.match(/best mIoU/g)?.length, 1, "rank 0 alone reports");
    const d = studentDistance(out, join(root, "ddp"), "model.pth");
    assert.equal(d.worst, 0, `${d.key} differs by ${d.worst}`);
  });
});
