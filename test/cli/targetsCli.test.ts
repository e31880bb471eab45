// `kdep targets` and `kdep distill --targets` on the real command line: build, train from
// the cache without the teacher, refuse a run or a rebuild with other settings.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { fmnistFolder } from "../pipelines/fixtures/fmnistFolder.js";

describe("kdep targets CLI", () => {
  it("builds a cache, distils from it, and refuses mismatched settings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kdep-targets-cli-"));
    const data = await fmnistFolder(join(dir, "data"), 2, 0);
    const common = [
      "--data",
      data,
      "--teacher",
      "resnet18",
      "--teacher-weights",
      "random",
      "--image-size",
      "32",
      "--workers",
      "0",
    ];
    const svd = await runCli(["svd", ...common, "--batch-size", "10", "--out", join(dir, "svd")]);
    assert.equal(svd.code, 0, svd.stderr);
    const cache = join(dir, "cache");
    const targets = ["targets", ...common, "--svd", join(dir, "svd"), "--epochs", "1"];
    const built = await runCli([...targets, "--batch-size", "10", "--out", cache]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /Targets of 1 epochs × 20 images \(k = 512\)/);

    const distill = ["distill", ...common, "--targets", cache, "--student", "resnet18"];
    const opts = ["--epochs", "1", "--batch-size", "10", "--val-every", "0"];
    const ok = await runCli([...distill, ...opts, "--out", join(dir, "run")]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(existsSync(join(dir, "run", "student.pth")));

    const bad = await runCli([...distill, ...opts, "--seed", "3", "--out", join(dir, "run2")]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /does not fit this run: .*seed: the cache has 0, this run 3/);
    const again = await runCli([...targets, "--batch-size", "10", "--k", "64", "--out", cache]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /built with other settings \(k: the cache has 512, this build 64\)/);
  });
});
