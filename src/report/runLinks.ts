// Finds each run's metrics.jsonl under the runs folder, for links from a report.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export interface RunLink {
  /** Path of the file relative to the runs folder, e.g. "kdep/seed0/metrics.jsonl". */
  name: string;
  /** Path relative to the report folder, "/"-separated, for href/src. */
  href: string;
}

/** Every metrics.jsonl below `runsDir` (sorted); empty when the folder does not exist. */
export function findRunLinks(runsDir: string, reportDir: string, maxDepth = 6): RunLink[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir && depth < maxDepth) walk(p, depth + 1);
      else if (n === "metrics.jsonl") found.push(p);
    }
  };
  walk(runsDir, 0);
  return found.map((p) => ({
    name: relative(runsDir, p).split(/[\\/]/).join("/"),
    href: relative(reportDir, p).split(/[\\/]/).join("/"),
  }));
}
