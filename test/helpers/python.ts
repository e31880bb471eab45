// Runs Python (Debian's /usr/bin/python3 with torch and numpy by default) as the reference
// implementation tests compare against. KDEP_PYTHON overrides the interpreter.
import { execFileSync, spawnSync } from "node:child_process";

export const PYTHON = process.env.KDEP_PYTHON ?? "/usr/bin/python3";

const cache = new Map<string, boolean>();

/** True when the interpreter can import every module named (cached per list). */
export function pythonHas(...modules: string[]): boolean {
  const key = modules.join(",");
  let ok = cache.get(key);
  if (ok === undefined) {
    const r = spawnSync(PYTHON, ["-c", modules.map((m) => `import ${m}`).join("; ")], {
      stdio: "ignore",
    });
    ok = r.status === 0;
    cache.set(key, ok);
  }
  return ok;
}

/** Runs Python code with arguments; returns stdout, throws with stderr on failure. */
export function runPython(script: string, args: string[] = [], timeoutMs = 120_000): string {
  return run(["-c", script, ...args], timeoutMs);
}

/** Runs a Python script file with arguments; returns stdout. */
export function runPythonFile(path: string, args: string[] = [], timeoutMs = 120_000): string {
  return run([path, ...args], timeoutMs);
}

function run(argv: string[], timeoutMs: number): string {
  try {
    return execFileSync(PYTHON, argv, {
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`python failed: ${err.stderr || err.message}`);
  }
}

/** Like runPython, but parses the last stdout line as JSON. */
export function runPythonJson<T = unknown>(script: string, args: string[] = []): T {
  const lines = runPython(script, args).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Fails (never skips) when the reference lacks a module: setup installs it, so its absence
 *  is a broken environment, and a skipped comparison would let the suite pass untested. */
export function requirePython(...modules: string[]): void {
  if (!pythonHas(...modules)) {
    throw new Error(
      `the Python reference ${PYTHON} (set KDEP_PYTHON to change it) cannot import ` +
        `${modules.join(", ")}; these tests compare against it`,
    );
  }
}
