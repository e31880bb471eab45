// The API reference builds from the doc comments with no TypeDoc warning (typedoc.json turns
// warnings into errors): every export of src/index.ts is documented and every link resolves.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "kdep-api-docs-"));
after(() => rmSync(out, { recursive: true, force: true }));

it("npm run docs:api's TypeDoc build has no warnings", () => {
  const typedoc = join(ROOT, "node_modules", "typedoc", "bin", "typedoc");
  const r = spawnSync(process.execPath, [typedoc, "--out", out], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /warning/);
  assert.ok(existsSync(join(out, "index.html")));
  assert.ok(existsSync(join(out, "functions", "exportOnnx.html")));
});
