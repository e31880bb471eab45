// Detection images decoded on worker threads equal those decoded on the main thread, in
// the order the jobs were given; an undecodable file fails its job naming the file.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeSyntheticDetection } from "../../src/data/datasets/detSynthetic.js";
import { DecodePool, decodeFiles } from "../../src/data/detDecode.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";

const dir = mkdtempSync(join(tmpdir(), "kdep-det-decode-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("DecodePool", () => {
  it("decodes on threads what the main thread decodes, jobs in order", async () => {
    await writeSyntheticDetection({ fmnistDir: FMNIST_DIR, outDir: dir, train: 7, val: 0 });
    const files = readdirSync(join(dir, "JPEGImages"))
      .sort()
      .map((f) => join(dir, "JPEGImages", f));
    const jobs = [files.slice(0, 2), files.slice(2, 3), files.slice(3, 6), files.slice(6)];
    const pool = new DecodePool(2);
    try {
      const threaded = await Promise.all(jobs.map((j) => pool.decode(j)));
      for (const [k, job] of jobs.entries()) {
        const main = await decodeFiles(job);
        assert.equal(threaded[k].length, job.length);
        for (const [i, img] of main.entries()) {
          const t = threaded[k][i];
          assert.deepEqual([t.width, t.height], [img.width, img.height], job[i]);
          assert.ok(Buffer.from(t.data).equals(Buffer.from(img.data)), `${job[i]}: same bytes`);
        }
      }
      const missing = join(dir, "JPEGImages", "gone.jpg");
      await assert.rejects(pool.decode([files[0], missing]), (e: Error) =>
        e.message.includes(missing),
      );
      await assert.rejects(decodeFiles([missing]), (e: Error) => e.message.includes(missing));
      // The pool still works after a failed job.
      const again = await pool.decode([files[1]]);
      assert.ok(Buffer.from(again[0].data).equals(Buffer.from(threaded[0][1].data)));
    } finally {
      await pool.close();
    }
  });
});
