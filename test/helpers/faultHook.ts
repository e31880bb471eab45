// Deterministic interruptions for the Ctrl-C and SIGKILL tests: loaded into a run's process
// (`node --import <this> …`, or imported by a fixture), it sends that process a signal at
// an exact point — after the Nth metrics line of a kind, or halfway through the Nth write of
// a file — instead of a test polling from outside and racing the run.
//
// KDEP_TEST_FAULTS is a JSON list of triggers, fired in order (each armed once the one
// before it has fired):
//   {"on": "append", "file": "metrics.jsonl", "contains": "train_step", "count": 1,
//    "signal": "SIGINT"}
//   {"on": "write", "file": "checkpoint.pth", "count": 3, "signal": "SIGKILL"}
// "write" matches the temp file an atomic write of `file` goes through, and signals after
// half of the first chunk is written (the rest follows unless the signal killed the process).
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { basename } from "node:path";

export interface FaultTrigger {
  on: "append" | "write";
  file: string;
  contains?: string;
  count: number;
  signal: NodeJS.Signals;
}

export const FAULTS_ENV = "KDEP_TEST_FAULTS";

/** The env that makes a child process install `triggers`. */
export function faultEnv(triggers: FaultTrigger[]): Record<string, string> {
  return { [FAULTS_ENV]: JSON.stringify(triggers) };
}

export function installFaults(triggers: FaultTrigger[]): void {
  let next = 0;
  let seen = 0;
  const armed = (on: FaultTrigger["on"], path: unknown, data?: unknown): FaultTrigger | null => {
    const t = triggers[next];
    if (!t || t.on !== on || typeof path !== "string") return null;
    const name = basename(path);
    const match = on === "append" ? name === t.file : name.startsWith(`.${t.file}.`);
    if (!match || (t.contains && !String(data).includes(t.contains))) return null;
    seen++;
    if (seen < t.count) return null;
    next++;
    seen = 0;
    return t;
  };
  const fire = (t: FaultTrigger) => process.kill(process.pid, t.signal);

  const { appendFileSync, openSync, writeSync } = fs;
  const pendingFds = new Map<number, FaultTrigger>();
  fs.appendFileSync = (...a: Parameters<typeof appendFileSync>) => {
    appendFileSync(...a);
    const t = armed("append", a[0], a[1]);
    if (t) fire(t);
  };
  fs.openSync = (...a: Parameters<typeof openSync>) => {
    const fd = openSync(...a);
    const t = armed("write", a[0]);
    if (t) pendingFds.set(fd, t);
    return fd;
  };
  // atomicWrite calls writeSync(fd, buffer, offset, length).
  fs.writeSync = ((fd: number, buf: Uint8Array, off: number, len: number) => {
    const t = pendingFds.get(fd);
    if (!t) return writeSync(fd, buf, off, len);
    pendingFds.delete(fd);
    const wrote = writeSync(fd, buf, off, Math.max(1, Math.floor(len / 2)));
    fire(t);
    return wrote;
  }) as typeof fs.writeSync;
  // Named imports of node:fs (`import { openSync } from "node:fs"`) see the patched versions.
  syncBuiltinESMExports();
}

const spec = process.env[FAULTS_ENV];
if (spec) installFaults(JSON.parse(spec) as FaultTrigger[]);
