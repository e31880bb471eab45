// Shared helpers for the data tests: a temp dir, the Python reference, image fixtures.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { PYTHON } from "../helpers/python.js";

export { PYTHON };
// Tests run from dist/test/data; the Python scripts stay in test/data/py.
export const PY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../test/data/py");

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kdep-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a Python snippet (or a script in test/data/py) and returns its stdout. */
export function python(code: string, args: string[] = []): string {
  return execFileSync(PYTHON, ["-c", code, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    timeout: 300_000,
  });
}

export function pythonScript(script: string, args: string[]): string {
  return execFileSync(PYTHON, [join(PY_DIR, script), ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    timeout: 300_000,
  });
}

/**
 * Writes a natural-looking RGB test image (smooth gradients + texture + sharp edges, so
 * resampling and JPEG both have something to chew on) with PIL.
 */
export function makeImage(
  path: string,
  width: number,
  height: number,
  seed = 0,
  quality = 90,
): void {
  python(
    `
import sys, numpy as np
from PIL import Image
w, h, seed, q, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rng = np.random.default_rng(seed)
y, x = np.mgrid[0:h, 0:w].astype(np.float64)
r = 128 + 100 * np.sin(x / (7 + seed % 5)) * np.cos(y / 11)
g = 255 * x / w
b = 255 * ((x // 23 + y // 17) % 2)
img = np.stack([r, g, b], -1) + rng.normal(0, 12, (h, w, 3))
img = np.clip(img, 0, 255).astype(np.uint8)
kw = {"quality": q} if path.lower().endswith((".jpg", ".jpeg", ".webp")) else {}
Image.fromarray(img).save(path, **kw)
`,
    [String(width), String(height), String(seed), String(quality), path],
  );
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
