// A lock file for a consumer project of the packed tarball, made from the project's own
// lock: the same versions of kdep's runtime dependencies (and @types/node), so that
// `npm ci --offline` installs them from the npm cache that the project's `npm ci` filled.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  [k: string]: unknown;
}

/** Everything reachable from `roots` through `dependencies`/`optionalDependencies`. */
function reachable(packages: Record<string, LockEntry>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    // Node's lookup: the nearest node_modules/<name> walking up from the dependent.
    let dir = from;
    for (;;) {
      const key = `${dir ? `${dir}/` : ""}node_modules/${name}`;
      if (packages[key]) {
        if (seen.has(key)) return;
        seen.add(key);
        const e = packages[key] as LockEntry & { optionalDependencies?: Record<string, string> };
        for (const d of Object.keys({ ...e.dependencies, ...e.optionalDependencies }))
          visit(d, key);
        return;
      }
      if (!dir) return;
      const i = dir.lastIndexOf("/node_modules/");
      dir = i < 0 ? "" : dir.slice(0, i);
    }
  };
  for (const r of roots) visit(r, "");
  return seen;
}

export function consumerLock(
  projectLock: string,
  tarball: string,
  tarballSpec: string,
): { lock: object; dependencies: Record<string, string> } {
  const lock = JSON.parse(readFileSync(projectLock, "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const root = lock.packages[""];
  const typesNode = lock.packages["node_modules/@types/node"]?.version;
  if (!typesNode) throw new Error(`${projectLock} has no @types/node`);
  const dependencies = { kdep: tarballSpec, "@types/node": typesNode };
  const keep = reachable(lock.packages, [...Object.keys(root.dependencies ?? {}), "@types/node"]);
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  const packages: Record<string, LockEntry> = {
    "": { name: "consumer", dependencies },
    "node_modules/kdep": {
      version: root.version,
      resolved: tarballSpec,
      integrity,
      hasInstallScript: true,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const key of keep) {
    const { dev: _d, devOptional: _o, ...entry } = lock.packages[key];
    packages[key] = entry;
  }
  return {
    lock: { name: "consumer", lockfileVersion: 3, requires: true, packages },
    dependencies,
  };
}
