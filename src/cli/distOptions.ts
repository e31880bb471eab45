// The data-parallel flags every training command shares, and the group they describe.
import type { Command } from "commander";
import { DEFAULT_DIST_TIMEOUT_S, readDistEnv } from "../distributed/env.js";
import { DistGroup } from "../distributed/group.js";
import { num } from "./config.js";

export interface DistFlags {
  nprocPerNode?: string;
  distIface?: string;
  distTimeout?: number;
}

export function addDistOptions(cmd: Command): Command {
  return cmd
    .option("--nproc-per-node <n>", "start n local data-parallel ranks (--batch-size stays global)")
    .option("--dist-iface <name>", "network interface for Gloo (default: GLOO_SOCKET_IFNAME)")
    .option(
      "--dist-timeout <s>",
      `seconds a rank waits for the others before failing (${DEFAULT_DIST_TIMEOUT_S})`,
      num,
    );
}

/** Splits the data-parallel flags off a command's options. */
export function splitDistFlags<T extends DistFlags>(o: T): [DistFlags, Omit<T, keyof DistFlags>] {
  const { nprocPerNode, distIface, distTimeout, ...rest } = o;
  return [{ nprocPerNode, distIface, distTimeout }, rest];
}

/** The job this process is a rank of (torchrun-style environment), or undefined. */
export function joinDistributed(f: DistFlags): DistGroup | undefined {
  const env = readDistEnv(process.env, { iface: f.distIface, timeout: f.distTimeout });
  return env ? DistGroup.init(env) : undefined;
}
