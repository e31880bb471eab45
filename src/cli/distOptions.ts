// The data-parallel flags every training command shares, and the group they describe.
// `--nproc-per-node` itself is taken off the command line by main.ts (the launcher); it is
// declared here so that help lists it and a config file may not set it.
import { z } from "zod";
import { DEFAULT_DIST_TIMEOUT_S, readDistEnv } from "../distributed/env.js";
import { DistGroup } from "../distributed/group.js";

export const DistFlags = {
  nprocPerNode: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("start this many local data-parallel ranks (--batch-size stays global)"),
  distBackend: z
    .enum(["gloo", "nccl"])
    .optional()
    .describe("process-group backend: gloo (CPU) or nccl (CUDA builds; else KDEP_DIST_BACKEND)"),
  distIface: z.string().optional().describe("network interface for Gloo (else GLOO_SOCKET_IFNAME)"),
  distTimeout: z
    .number()
    .positive()
    .optional()
    .describe(
      `seconds a rank waits for the others before failing (${DEFAULT_DIST_TIMEOUT_S} when unset)`,
    ),
};

export interface DistFlagValues {
  nprocPerNode?: number;
  distBackend?: "gloo" | "nccl";
  distIface?: string;
  distTimeout?: number;
}

/** Splits the data-parallel flags off a command's settings. */
export function splitDistFlags<T extends DistFlagValues>(
  o: T,
): [DistFlagValues, Omit<T, keyof DistFlagValues>] {
  const { nprocPerNode, distBackend, distIface, distTimeout, ...rest } = o;
  return [{ nprocPerNode, distBackend, distIface, distTimeout }, rest];
}

/** The job this process is a rank of (torchrun-style environment), or undefined. */
export function joinDistributed(f: DistFlagValues): DistGroup | undefined {
  const env = readDistEnv(process.env, {
    iface: f.distIface,
    timeout: f.distTimeout,
    backend: f.distBackend,
  });
  return env ? DistGroup.init(env) : undefined;
}
