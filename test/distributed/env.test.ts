// torchrun's environment → this process's place in the job, and the refusals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readDistEnv } from "../../src/distributed/env.js";
import { checkBackend } from "../../src/distributed/group.js";
import { takeNprocFlag } from "../../src/distributed/launch.js";
import { assignBuckets } from "../../src/distributed/reducer.js";
import { native } from "../../src/native/binding.js";
import { zeros } from "../../src/tensor/index.js";
import { runCli } from "../helpers/cli.js";

const job = { RANK: "1", WORLD_SIZE: "4", MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500" };

describe("readDistEnv", () => {
  it("runs alone without RANK and WORLD_SIZE, or in a world of one", () => {
    assert.equal(readDistEnv({}), null);
    assert.equal(readDistEnv({ RANK: "0", WORLD_SIZE: "1" }), null);
  });

  it("reads torchrun's variables", () => {
    const e = readDistEnv({ ...job, LOCAL_RANK: "1", GLOO_SOCKET_IFNAME: "eth1" });
    assert.deepEqual(e, {
      rank: 1,
      worldSize: 4,
      localRank: 1,
      masterAddr: "10.0.0.1",
      masterPort: 29500,
      storePrefix: undefined,
      iface: "eth1",
      timeoutMs: 50_000,
      backend: "gloo",
    });
    assert.equal(readDistEnv(job, { iface: "ib0", timeout: 5 })?.iface, "ib0");
    assert.equal(readDistEnv(job, { timeout: 5 })?.timeoutMs, 5000);
  });

  it("joins torchrun's agent store under its prefix", () => {
    const e = readDistEnv({
      ...job,
      TORCHELASTIC_USE_AGENT_STORE: "True",
      TORCHELASTIC_RESTART_COUNT: "2",
    });
    assert.equal(e?.storePrefix, "/worker/attempt_2");
  });

  it("refuses a wrong environment, naming the variable", () => {
    assert.throws(() => readDistEnv({ WORLD_SIZE: "2" }), /WORLD_SIZE=2 is set but RANK is not/);
    assert.throws(() => readDistEnv({ RANK: "0" }), /RANK=0 is set but WORLD_SIZE is not/);
    assert.throws(
      () => readDistEnv({ ...job, RANK: "4" }),
      /RANK="4": expected an integer in \[0, 3\]/,
    );
    assert.throws(() => readDistEnv({ ...job, WORLD_SIZE: "two" }), /WORLD_SIZE="two"/);
    assert.throws(
      () => readDistEnv({ RANK: "0", WORLD_SIZE: "2" }),
      /MASTER_ADDR and MASTER_PORT not set/,
    );
    assert.throws(() => readDistEnv({ ...job, MASTER_PORT: "70000" }), /MASTER_PORT="70000"/);
    assert.throws(() => readDistEnv(job, { timeout: -1 }), /positive number of seconds/);
    assert.throws(
      () => readDistEnv({ ...job, KDEP_DIST_BACKEND: "mpi" }),
      /KDEP_DIST_BACKEND="mpi": expected gloo or nccl/,
    );
  });
});

describe("--nproc-per-node and buckets", () => {
  it("takes the flag off the command line", () => {
    assert.deepEqual(takeNprocFlag(["distill", "--nproc-per-node", "2", "--out", "x"]), {
      n: 2,
      rest: ["distill", "--out", "x"],
    });
    assert.deepEqual(takeNprocFlag(["distill", "--nproc-per-node=3"]), { n: 3, rest: ["distill"] });
    assert.equal(takeNprocFlag(["distill"]), null);
    assert.throws(() => takeNprocFlag(["distill", "--nproc-per-node", "0"]), /positive integer/);
  });

  it("fills buckets up to the cap in reverse order, a large tensor alone", () => {
    const ps = [zeros([10]), zeros([20]), zeros([100]), zeros([5]), zeros([5])];
    const sizes = assignBuckets(ps, 30 * 4).map((b) => b.map((p) => p.numel));
    assert.deepEqual(sizes, [[5, 5], [100], [20, 10]]);
  });
});

describe("the process-group backend", () => {
  it("this CPU build has Gloo and refuses NCCL before anything waits, saying why", () => {
    const have = native.distBackends();
    assert.ok(have.includes("gloo"), `backends: ${have}`);
    assert.ok(!have.includes("nccl"), "a CPU libtorch has no NCCL");
    assert.throws(
      () => checkBackend("nccl"),
      /--dist-backend nccl: not in this build \(it has gloo\): this kdep was built against a CPU libtorch; rebuild against a CUDA libtorch/,
    );
    assert.doesNotThrow(() => checkBackend("gloo"));
    assert.doesNotThrow(() => checkBackend("nccl", ["gloo", "nccl"]));
  });

  it("kdep … --dist-backend nccl fails at once on a CPU build", async () => {
    const t0 = Date.now();
    const r = await runCli(
      [
        "transfer",
        "cls",
        "--dataset",
        "imagefolder",
        "--data",
        "/nonexistent",
        "--dist-backend",
        "nccl",
      ],
      { env: { RANK: "0", WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: "29733" } },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /kdep transfer cls: --dist-backend nccl: not in this build/);
    assert.ok(Date.now() - t0 < 20_000, "no wait for peers");
  });
});

describe("--nproc-per-node on a command that does not train data-parallel", () => {
  it("is refused before any rank starts", async () => {
    const r = await runCli(["svd", "--nproc-per-node", "2"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--nproc-per-node: `kdep svd` does not train data-parallel \(distill,/);
  });
});
