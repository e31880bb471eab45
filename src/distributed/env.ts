// Where this process sits in a data-parallel job, read from the environment torchrun (and
// `kdep … --nproc-per-node N`) sets: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
// and, with torchrun's agent store, TORCHELASTIC_USE_AGENT_STORE / TORCHELASTIC_RESTART_COUNT.
// A wrong environment is refused here with a message naming the variable, before anything
// waits on the network.

/** This process's place in a data-parallel job, as read from the environment. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** torchrun's agent hosts the store: every rank is a client under this prefix. */
  storePrefix?: string;
  /** Gloo's network interface (--dist-iface, else GLOO_SOCKET_IFNAME). */
  iface?: string;
  /** Store connection and per-collective timeout. */
  timeoutMs: number;
  backend: "gloo" | "nccl";
}

/** Settings a command line gives besides the environment. */
export interface DistOptions {
  iface?: string;
  /** Seconds; default KDEP_DIST_TIMEOUT or 50. */
  timeout?: number;
  backend?: "gloo" | "nccl";
}

export const DEFAULT_DIST_TIMEOUT_S = 50;

function intVar(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const raw = env[name] ?? "";
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(v) || v < min || v > max)
    throw new Error(`${name}=${JSON.stringify(raw)}: expected an integer in [${min}, ${max}]`);
  return v;
}

/**
 * The job this process belongs to, or null when it runs alone (no RANK/WORLD_SIZE, or a
 * world of one).
 */
export function readDistEnv(env: NodeJS.ProcessEnv, o: DistOptions = {}): DistEnv | null {
  const hasRank = env.RANK !== undefined && env.RANK !== "";
  const hasWorld = env.WORLD_SIZE !== undefined && env.WORLD_SIZE !== "";
  if (!hasRank && !hasWorld) return null;
  const how = "launch with `kdep … --nproc-per-node N` or torchrun, or set both for every process";
  if (!hasRank) throw new Error(`WORLD_SIZE=${env.WORLD_SIZE} is set but RANK is not: ${how}`);
  if (!hasWorld) throw new Error(`RANK=${env.RANK} is set but WORLD_SIZE is not: ${how}`);
  const worldSize = intVar(env, "WORLD_SIZE", 1, 65536);
  const rank = intVar(env, "RANK", 0, worldSize - 1);
  if (worldSize === 1) return null;
  const missing = ["MASTER_ADDR", "MASTER_PORT"].filter((k) => !env[k]);
  if (missing.length > 0)
    throw new Error(
      `${missing.join(" and ")} not set (RANK=${rank}, WORLD_SIZE=${worldSize}): every rank needs the address and port of rank 0's store`,
    );
  const masterPort = intVar(env, "MASTER_PORT", 1, 65535);
  const localRank = env.LOCAL_RANK ? intVar(env, "LOCAL_RANK", 0, worldSize - 1) : rank;
  const timeout = o.timeout ?? (env.KDEP_DIST_TIMEOUT ? Number(env.KDEP_DIST_TIMEOUT) : undefined);
  if (timeout !== undefined && !(timeout > 0))
    throw new Error(`dist timeout ${timeout}: expected a positive number of seconds`);
  const agent = env.TORCHELASTIC_USE_AGENT_STORE === "True";
  return {
    rank,
    worldSize,
    localRank,
    masterAddr: env.MASTER_ADDR as string,
    masterPort,
    storePrefix: agent ? `/worker/attempt_${env.TORCHELASTIC_RESTART_COUNT ?? "0"}` : undefined,
    iface: o.iface ?? (env.GLOO_SOCKET_IFNAME || undefined),
    timeoutMs: Math.round((timeout ?? DEFAULT_DIST_TIMEOUT_S) * 1000),
    backend: o.backend ?? backendVar(env),
  };
}

function backendVar(env: NodeJS.ProcessEnv): "gloo" | "nccl" {
  const b = env.KDEP_DIST_BACKEND ?? "gloo";
  if (b !== "gloo" && b !== "nccl")
    throw new Error(`KDEP_DIST_BACKEND=${JSON.stringify(b)}: expected gloo or nccl`);
  return b;
}

/** Whether an address names this machine's loopback (then Gloo binds there too). */
export function isLoopback(addr: string): boolean {
  return addr === "localhost" || addr.startsWith("127.") || addr === "::1";
}
