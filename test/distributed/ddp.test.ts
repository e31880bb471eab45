// Data-parallel distillation over c10d/Gloo, two ranks on 127.0.0.1 with one thread each:
// the same weights as one process with the whole batch, the dead-rank report, exact resume
// after SIGKILL, and clear errors for a wrong environment.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadStateDictFile } from "../../src/io/tensors.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { waitFor } from "../helpers/cli.js";
import { assertClose } from "../helpers/torchRef.js";
import { type ChildArgs, runJob, startJob, startRank, studentDistance } from "./ranks.js";

const root = mkdtempSync(join(tmpdir(), "kdep-ddp-"));

/** Elementwise rtol 1e-5 / atol 1e-6 (as the PyTorch parity tests), and per tensor ‖Δ‖/‖w‖. */
function assertSameStudent(run: string, reference: string, what: string): string {
  const a = loadStateDictFile(join(run, "student.pth")).stateDict;
  const b = loadStateDictFile(join(reference, "student.pth")).stateDict;
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, t] of b) assertClose(a.get(k)!, t, `${what}: ${k}`, 1e-5, 1e-6);
  const d = studentDistance(run, reference);
  assert.ok(d.worst <= 1e-5, `${what}: ${d.key} differs by ${d.worst} (relative norm)`);
  return `${what}: worst tensor ${d.key}, ‖Δ‖/‖w‖ = ${d.worst.toExponential(2)}`;
}

describe("data-parallel distillation (2 ranks × batch 8 vs 1 process × batch 16)", () => {
  // Random pixels: Fashion-MNIST's flat backgrounds make a 5-step run of this tiny net
  // chaotic (one process with 1 vs 2 threads already differs by 40 % there).
  const base: ChildArgs = {
    out: "",
    epochs: 1,
    batchSize: 16,
    syncBn: true,
    perClass: 8,
    lr: 0.002,
    noise: true,
  };

  it("gives the weights and SyncBN running statistics of one process after 5 steps", async (t) => {
    const single = join(root, "single");
    const [one] = await Promise.all([startRank({ ...base, out: single }, {}).done]);
    assert.equal(one.code, 0, one.stderr);
    const ddp = join(root, "ddp");
    const ranks = await runJob({ ...base, out: ddp }, 2);
    for (const r of ranks) assert.equal(r.code, 0, r.stderr);
    const ck = loadCheckpointFile(join(ddp, "checkpoint.pth"));
    assert.equal(ck.loop.globalStep, 5, "5 global steps of 16 images");
    // running_mean/var are in the student file: they are compared too.
    t.diagnostic(assertSameStudent(ddp, single, "2 ranks vs 1"));
  });

  it("refuses settings that differ between ranks, on every rank", async () => {
    const ranks = await startJob({ ...base, out: join(root, "mismatch") }, 2, (r) => ({
      lr: r === 0 ? 0.002 : 0.004,
    }));
    for (const r of await Promise.all(ranks.map((x) => x.done))) {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /rank\(s\) 1 run with different distill settings than rank 0/);
    }
  });
});

describe("a rank that dies", () => {
  const args: ChildArgs = {
    out: "",
    epochs: 3,
    batchSize: 16,
    syncBn: true,
    perClass: 16,
    lr: 0.002,
    noise: true,
    checkpointEvery: 1,
  };
  const full = join(root, "full");

  it("makes the other exit non-zero naming it in < 60 s; --resume ends where a whole run ends", async (t) => {
    const ref = await runJob({ ...args, out: full }, 2);
    for (const r of ref) assert.equal(r.code, 0, r.stderr);

    const cut = join(root, "cut");
    const ranks = await startJob({ ...args, out: cut }, 2);
    // Mid-epoch: after the first step's checkpoint.
    await waitFor(() => existsSync(join(cut, "checkpoint.pth")), "a first checkpoint", {
      timeoutMs: 60_000,
    });
    const killedAt = Date.now();
    ranks[1].child.kill("SIGKILL");
    const survivor = await ranks[0].done;
    const seconds = (Date.now() - killedAt) / 1000;
    assert.notEqual(survivor.code, 0, "the survivor fails");
    assert.match(survivor.stderr, /rank 1 stopped responding/);
    assert.ok(seconds < 60, `reported after ${seconds} s`);
    const ck = loadCheckpointFile(join(cut, "checkpoint.pth"));
    assert.ok(ck.loop.globalStep < 30, "stopped before the end");
    t.diagnostic(
      `rank 1 killed after global step ${ck.loop.globalStep}; rank 0 failed ${seconds} s later`,
    );

    const resumed = await runJob({ ...args, out: cut }, 2);
    for (const r of resumed) assert.equal(r.code, 0, r.stderr);
    t.diagnostic(assertSameStudent(cut, full, "resumed vs uninterrupted"));
  });
});

describe("rank 0 dies (it hosts the store)", () => {
  it("makes the other exit non-zero naming rank 0 in < 60 s", async (t) => {
    const out = join(root, "cut0");
    const ranks = await startJob(
      {
        out,
        epochs: 3,
        batchSize: 16,
        syncBn: true,
        perClass: 16,
        lr: 0.002,
        noise: true,
        checkpointEvery: 1,
      },
      2,
    );
    await waitFor(() => existsSync(join(out, "checkpoint.pth")), "a first checkpoint", {
      timeoutMs: 60_000,
    });
    const killedAt = Date.now();
    ranks[0].child.kill("SIGKILL");
    const survivor = await ranks[1].done;
    const seconds = (Date.now() - killedAt) / 1000;
    assert.notEqual(survivor.code, 0, "the survivor fails");
    assert.match(survivor.stderr, /rank 0 stopped responding/);
    assert.ok(seconds < 60, `reported after ${seconds} s`);
    t.diagnostic(`rank 1 failed ${seconds} s after rank 0 was killed`);
  });
});

describe("a wrong environment", () => {
  const args: ChildArgs = {
    out: join(root, "env"),
    epochs: 1,
    batchSize: 16,
    syncBn: false,
    perClass: 2,
  };

  it("WORLD_SIZE without RANK is refused at once", async () => {
    const r = await startRank(args, { WORLD_SIZE: "2" }).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /WORLD_SIZE=2 is set but RANK is not/);
  });

  it("an unreachable store fails within the timeout, naming the address", async (t) => {
    // Nothing listens on the port: rank 1 never finds rank 0's store.
    const r = await startRank(args, {
      RANK: "1",
      WORLD_SIZE: "2",
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: "9",
      KDEP_DIST_TIMEOUT: "3",
    }).done;
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /could not form the process group with the store at 127\.0\.0\.1:9 within 3 s/,
    );
    assert.ok(r.ms < 30_000, `failed after ${r.ms} ms`);
    t.diagnostic(`failed after ${r.ms} ms`);
  });

  it("a rank missing its peers times out instead of hanging", async () => {
    // Rank 0 hosts the store but rank 1 never comes.
    const r = await startRank(args, {
      RANK: "0",
      WORLD_SIZE: "2",
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: "29731",
      KDEP_DIST_TIMEOUT: "3",
    }).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /could not form the process group/);
    assert.ok(r.ms < 30_000, `failed after ${r.ms} ms`);
  });
});
