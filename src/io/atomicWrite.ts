// Writes a file so that readers (and a crash) see either the old file or the complete new
// one, never a torn checkpoint: write a temp file in the same folder (rename is atomic
// only within one filesystem), fsync it, rename over the target, then optionally fsync the
// folder so the rename itself survives a power loss.
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** Also fsync the containing folder after the rename (default true). */
  syncDir?: boolean;
}

export function atomicWriteFile(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
  opts: AtomicWriteOptions = {},
): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const parts = data instanceof Uint8Array ? [data] : data;
  let fd = -1;
  try {
    fd = openSync(tmp, "wx", 0o644);
    for (const part of parts) {
      let off = 0;
      while (off < part.length) off += writeSync(fd, part, off, part.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new Error(`could not write ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (opts.syncDir ?? true) {
    // Some platforms (Windows) cannot open a folder; durability there rests on rename.
    try {
      const dfd = openSync(dir, "r");
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      /* best effort */
    }
  }
}

/**
 * Removes temp files that atomicWriteFile left beside `path` when its writer died (SIGKILL,
 * power loss) between creating and renaming them. Files of a live writer are kept.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
