// The data-parallel process group of this process: libtorch's c10d (TCPStore + Gloo, or
// NCCL on a CUDA build) behind a few typed collectives. A failed collective is turned into
// an error that names the rank(s) that stopped answering: survivors mark themselves alive
// in the store and whoever is missing after a short wait is named.
import { createHash } from "node:crypto";
import { native } from "../native/binding.js";
import { fromArray, type Tensor, tidy } from "../tensor/index.js";
import { wrap } from "../tensor/tensor.js";
import { type DistEnv, isLoopback } from "./env.js";

const ALIVE_WAIT_MS = 3000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * This process's data-parallel group: `DistGroup.init(readDistEnv(process.env)!)` joins the
 * job; pass it as `distributed` to a training run.
 */
export class DistGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly #env: DistEnv;
  #failed: Error | null = null;
  #arrivals = 0;
  /** Where the group's own small tensors live: NCCL reduces CUDA tensors only. */
  readonly #device: string;

  private constructor(env: DistEnv) {
    this.#env = env;
    this.rank = env.rank;
    this.worldSize = env.worldSize;
    this.localRank = env.localRank;
    this.#device = env.backend === "nccl" ? `cuda:${env.localRank}` : "cpu";
  }

  /** Connects to the store and forms the group; fails (no hang) after the timeout. */
  static init(env: DistEnv): DistGroup {
    const where = `${env.masterAddr}:${env.masterPort}`;
    checkBackend(env.backend);
    try {
      native.distInit({
        rank: env.rank,
        worldSize: env.worldSize,
        host: env.masterAddr,
        port: env.masterPort,
        isServer: env.rank === 0 && env.storePrefix === undefined,
        prefix: env.storePrefix,
        iface: env.iface,
        hostname: env.iface === undefined && isLoopback(env.masterAddr) ? "127.0.0.1" : undefined,
        timeoutMs: env.timeoutMs,
        backend: env.backend,
      });
    } catch (e) {
      throw new Error(
        `rank ${env.rank}/${env.worldSize}: could not form the process group with the store at ${where} within ${env.timeoutMs / 1000} s (is MASTER_ADDR reachable, MASTER_PORT free on rank 0, and are all ${env.worldSize} ranks started?): ${message(e)}`,
      );
    }
    return new DistGroup(env);
  }

  get isLead(): boolean {
    return this.rank === 0;
  }

  /** Sums (or max/min) each tensor over the ranks, in place. */
  allReduce(ts: Tensor[], op: "sum" | "max" | "min" = "sum"): void {
    this.#run("allreduce", () =>
      native.distAllReduce(
        ts.map((t) => t.handle),
        op,
      ),
    );
  }

  /** Rank `root`'s values into every rank's tensors, in place. */
  broadcast(ts: Tensor[], root = 0): void {
    this.#run("broadcast", () =>
      native.distBroadcast(
        ts.map((t) => t.handle),
        root,
      ),
    );
  }

  /** Every rank's copy of `t`, in rank order. */
  allGather(t: Tensor): Tensor[] {
    return this.#run("allgather", () => native.distAllGather(t.handle).map((h) => wrap(h)));
  }

  barrier(): void {
    this.#run("barrier", () => native.distBarrier());
  }

  /** Each rank's bytes (any length, none included), in rank order: lengths first, then padded. */
  allGatherBytes(data: Uint8Array): Uint8Array[] {
    return tidy(() => {
      const len = fromArray(new Float64Array([data.length]), [1]).to({ device: this.#device });
      const lens = this.allGather(len).map((t) => t.item());
      const padded = new Uint8Array(Math.max(1, ...lens));
      padded.set(data);
      const mine = fromArray(padded, [padded.length]).to({ device: this.#device });
      return this.allGather(mine).map((t, r) => {
        const all = t.to({ device: "cpu" }).toTypedArray() as Uint8Array;
        return all.slice(0, lens[r]);
      });
    });
  }

  /** Element-wise sums over the ranks of a float64 array (exact for integer counts < 2^53). */
  sumArray(a: Float64Array): Float64Array {
    if (a.length === 0) return new Float64Array(0);
    return tidy(() => {
      const t = fromArray(a, [a.length]).to({ device: this.#device });
      this.allReduce([t]);
      return new Float64Array(t.to({ device: "cpu" }).toTypedArray() as Float64Array);
    });
  }

  /**
   * Waits, with no time limit, until every rank has arrived here: before the collectives that
   * end work each rank does on its own share (an evaluation shard) or rank 0 does alone, which
   * may outlast the collective timeout. Fails if rank 0's store goes.
   */
  async allArrive(): Promise<void> {
    const round = this.#arrivals++;
    const keys = Array.from({ length: this.worldSize }, (_, r) => `arrive/${round}/${r}`);
    try {
      native.distStoreSet(keys[this.rank], "1");
      while (!native.distStoreCheck(keys)) await new Promise((r) => setTimeout(r, 100));
    } catch (e) {
      throw new Error(
        `rank ${this.rank}/${this.worldSize}: the store stopped responding while the ranks waited for each other (${message(e)})`,
      );
    }
    this.barrier();
  }

  /** The sum over ranks as a new tensor whose gradient is also summed over ranks. */
  sumDifferentiable(t: Tensor): Tensor {
    return this.#run("allreduce (autograd)", () => wrap(native.distAllReduceDiff(t.handle)));
  }

  /** True on every rank when it is true on any (e.g. a stop request). */
  any(flag: boolean): boolean {
    return tidy(() => {
      const t = fromArray(new Float32Array([flag ? 1 : 0]), [1]).to({ device: this.#device });
      this.allReduce([t], "max");
      return t.item() > 0;
    });
  }

  /**
   * Fails on every rank, naming the ranks that differ from rank 0, when `value` (e.g. the
   * resolved settings) is not the same everywhere.
   */
  checkSame(what: string, value: string): void {
    const digest = createHash("sha256").update(value).digest();
    const words = Array.from({ length: 4 }, (_, i) => digest.readUInt16LE(2 * i));
    const differ = tidy(() => {
      const mine = fromArray(new Float64Array(words), [4]).to({ device: this.#device });
      const all = this.allGather(mine).map((t) => t.toArray());
      return all.flatMap((w, r) => (w.every((x, i) => x === all[0][i]) ? [] : [r]));
    });
    if (differ.length > 0)
      throw new Error(
        `rank(s) ${differ.join(", ")} run with different ${what} than rank 0: start every rank with the same command and settings`,
      );
  }

  /**
   * For errors raised outside these methods (a collective inside backward, e.g. SyncBN's):
   * a collective's failure gets the dead-rank diagnosis, anything else passes unchanged.
   */
  explain(e: unknown): unknown {
    if (this.#failed) return this.#failed;
    if (!/\b(allreduce|broadcast|allgather|barrier) failed: /.test(message(e))) return e;
    this.#failed = this.#explain("allreduce (backward)", e);
    return this.#failed;
  }

  destroy(): void {
    native.distDestroy();
  }

  #run<T>(what: string, f: () => T): T {
    if (this.#failed) throw this.#failed;
    try {
      return f();
    } catch (e) {
      this.#failed = this.#explain(what, e);
      throw this.#failed;
    }
  }

  /** Which ranks are gone: the ones that do not mark themselves alive within a few seconds. */
  #explain(what: string, e: unknown): Error {
    let verdict: string;
    try {
      native.distStoreSet(`alive/${this.rank}`, "1");
      const others = Array.from({ length: this.worldSize }, (_, r) => r).filter(
        (r) => r !== this.rank,
      );
      let missing = others;
      const deadline = Date.now() + ALIVE_WAIT_MS;
      while (missing.length > 0 && Date.now() < deadline) {
        sleepSync(100);
        missing = missing.filter((r) => !native.distStoreCheck([`alive/${r}`]));
      }
      verdict =
        missing.length > 0
          ? `rank ${missing.join(", rank ")} stopped responding (exited or hung; see its own output)`
          : "every rank is still alive (a timeout or a network problem)";
    } catch {
      verdict =
        this.#env.storePrefix === undefined
          ? "rank 0 stopped responding (its store is gone)"
          : "the launcher's store is gone";
    }
    return new Error(
      `distributed ${what} failed on rank ${this.rank}/${this.worldSize}: ${verdict}. Cause: ${message(e)}`,
    );
  }
}

/** Refuses, before anything waits on the network, a backend this build does not have. */
export function checkBackend(backend: DistEnv["backend"], have = native.distBackends()): void {
  if (have.includes(backend)) return;
  const how =
    backend === "nccl"
      ? "this kdep was built against a CPU libtorch; rebuild against a CUDA libtorch (LIBTORCH=/path/to/libtorch bash scripts/setup.sh) or use --dist-backend gloo"
      : "install Gloo's headers (Debian: libgloo-dev) and rebuild with bash scripts/setup.sh";
  throw new Error(
    `--dist-backend ${backend}: not in this build (it has ${have.join(", ") || "none"}): ${how}`,
  );
}

/** A rank's share of a global batch, and the sampler's shard: DataLoader options. */
export function shardOptions(
  group: DistGroup | undefined,
  batchSize: number,
): { batchSize: number; distributed?: { rank: number; worldSize: number } } {
  if (!group) return { batchSize };
  if (batchSize % group.worldSize !== 0)
    throw new Error(
      `--batch-size ${batchSize} (the global batch) is not a multiple of the ${group.worldSize} ranks`,
    );
  return {
    batchSize: batchSize / group.worldSize,
    distributed: { rank: group.rank, worldSize: group.worldSize },
  };
}
