// The first errors a user meets: settings are checked before any input is read (a typo in
// an architecture is reported as such, not as a missing file), and a forgotten
// --teacher-weights is refused instead of distilling from a random teacher.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";

describe("kdep svd / distill refuse bad settings before reading inputs", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-refuse-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const missing = join(root, "no-such-data");

  it("distill --student resnet19 --svd /tmp names the architecture, not the SVD folder", async () => {
    const r = await runCli([
      "distill",
      "--student",
      "resnet19",
      "--svd",
      "/tmp",
      "--data",
      missing,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /student: Unknown model "resnet19"; expected one of resnet18, /);
    assert.doesNotMatch(r.stderr, /svd\.json|no-such-data/);
  });

  it("an unknown teacher architecture is named first, for svd and distill", async () => {
    const out = join(root, "svd-out");
    const svd = await runCli(
      ["svd", "--teacher", "resnet5", "--teacher-weights", "random"].concat([
        "--data",
        missing,
        "--out",
        out,
      ]),
    );
    assert.equal(svd.code, 1);
    assert.match(svd.stderr, /--teacher: Unknown model "resnet5"/);
    const distill = await runCli([
      "distill",
      "--teacher",
      "resnet5",
      "--data",
      missing,
      "--out",
      out,
    ]);
    assert.equal(distill.code, 1);
    assert.match(distill.stderr, /teacher: Unknown model "resnet5"/);
    assert.ok(!existsSync(out), "nothing written");
  });

  it("without --teacher-weights, svd and distill refuse (random only when asked for)", async () => {
    const out = join(root, "run");
    const want = /--teacher-weights is required: .*or `--teacher-weights random`/;
    const svd = await runCli(["svd", "--teacher", "resnet18", "--data", missing, "--out", out]);
    assert.equal(svd.code, 1);
    assert.match(svd.stderr, want);
    const distill = await runCli([
      "distill",
      "--teacher",
      "resnet18",
      "--data",
      missing,
      "--out",
      out,
    ]);
    assert.equal(distill.code, 1);
    assert.match(distill.stderr, want);
    assert.doesNotMatch(distill.stderr + svd.stderr, /no-such-data/, "no input was read");
    assert.ok(!existsSync(out), "nothing written");
    // Asked for explicitly, a random teacher is accepted: the run gets as far as the data.
    const random = await runCli(
      ["svd", "--teacher", "resnet18", "--teacher-weights", "random"].concat([
        "--data",
        missing,
        "--out",
        out,
      ]),
    );
    assert.equal(random.code, 1);
    assert.match(random.stderr, /no-such-data/);
  });
});
