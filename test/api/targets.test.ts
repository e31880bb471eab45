// runTargets: `kdep targets` as a library call, options checked by the command's schema.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as kdep from "../../src/index.js";
import { TargetCache } from "../../src/pipelines/kdep/targetCacheReader.js";
import { fmnistFolder } from "../pipelines/fixtures/fmnistFolder.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-api-targets-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = () => {};

describe("runTargets", () => {
  it("refuses bad options before reading anything, naming the key", async () => {
    const out = join(dir, "refused");
    const base = { data: dir, svd: dir, out, teacherWeights: "random" };
    await assert.rejects(
      kdep.runTargets({ ...base, epoch: 2 } as kdep.TargetsOptions, quiet),
      /Invalid options for runTargets:\n {2}epoch: unknown option/,
    );
    await assert.rejects(kdep.runTargets({ ...base, k: 0 }, quiet), /k: .*; got 0/);
    await assert.rejects(
      kdep.runTargets({ ...base, teacherWeights: undefined }, quiet),
      /--teacher-weights is required/,
    );
    assert.equal(existsSync(out), false);
  });

  it("builds a cache that distil reads, and a second call finds it complete", async () => {
    const data = await fmnistFolder(join(dir, "data"), 1, 0);
    const common = {
      data,
      teacher: "resnet18",
      teacherWeights: "random",
      imageSize: 32,
      workers: 0,
      batchSize: 4,
      progress: "quiet" as const,
    };
    await kdep.runSvd({ ...common, out: join(dir, "svd") }, quiet);
    const out = join(dir, "cache");
    const o = { ...common, svd: join(dir, "svd"), out, epochs: 2, k: 16 };
    const r = await kdep.runTargets(o, quiet);
    assert.equal(r.stopped, false);
    assert.equal(r.images, 10);
    assert.equal(r.chunks, 6); // 2 epochs × ceil(10 / 4)
    assert.equal(r.teacherId, "resnet18@random-seed0");
    assert.deepEqual([r.manifest.k, r.manifest.epochs, r.manifest.images.count], [16, 2, 10]);
    const cache = new TargetCache(out);
    assert.equal(cache.rows(1, [0, 9]).length, 2 * 16 * 2);
    cache.close();
    const again = await kdep.runTargets(o, quiet);
    assert.equal(again.chunks, 0);
  });
});
