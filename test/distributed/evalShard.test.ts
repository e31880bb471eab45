// Evaluation sharded over 2 data-parallel ranks gives one process's result on the whole val
// set, with each rank evaluating only its share (rank r: images r, r+2, …; an odd number of
// images, so the shards are unequal and nothing may be counted twice), rank 1's shifted BN
// statistics replaced by rank 0's, and rank 0 alone writing every output file. Equality is
// exact: the tallies are integer counts (top-1/top-5/per-class, the confusion matrix), and the
// detections travel as float64 (their float32 values exactly) and are put back in one process's
// order before scoring, so AP ties break the same way.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { writeSyntheticDetection } from "../../src/data/datasets/detSynthetic.js";
import { segFolder } from "../../src/data/datasets/segFolder.js";
import { readMaskPng } from "../../src/data/png.js";
import { writePastedTask } from "../../src/data/segSynth.js";
import { packNamed, shardIndices, unpackNamed } from "../../src/distributed/evalShard.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";
import { runScriptJob, startRank } from "./ranks.js";

const CHILD = fileURLToPath(new URL("./fixtures/evalChild.js", import.meta.url));

type Task = "cls" | "seg" | "det" | "distill";
interface RankResult {
  metrics: Record<string, unknown>;
  confusion?: number[];
  local: number;
}

const read = (dir: string, rank: number): RankResult =>
  JSON.parse(readFileSync(join(dir, `rank${rank}.json`), "utf8"));

/** Every file under `dir` (relative paths) with its bytes. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out.set(p.slice(dir.length + 1), readFileSync(p));
    }
  return out;
}

describe("shardIndices / packNamed", () => {
  it("split n samples over the ranks once each, unequal shards included", () => {
    const g = (rank: number, worldSize: number) => ({ rank, worldSize }) as never;
    assert.deepEqual([...shardIndices(7, g(0, 3))], [0, 3, 6]);
    assert.deepEqual([...shardIndices(7, g(1, 3))], [1, 4]);
    assert.deepEqual([...shardIndices(7, g(2, 3))], [2, 5]);
    assert.deepEqual([...shardIndices(1, g(1, 2))], []);
    assert.deepEqual([...shardIndices(3)], [0, 1, 2]);
    const entries = [
      { name: "a/b.png", data: new Uint8Array([1, 2, 3]) },
      { name: "é", data: new Uint8Array(0) },
    ];
    assert.deepEqual(unpackNamed(packNamed(entries)), entries);
  });
});

describe("evaluation on 2 ranks equals one process's", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-eval-shard-"));
  const seg = join(root, "segTask");
  const det = join(root, "detTask");

  before(async () => {
    await writePastedTask({
      fmnistDir: FMNIST_DIR,
      out: seg,
      classes: ["T-shirt/top", "Trouser"],
      train: 1,
      val: 5,
      size: 48,
      seed: 2,
    });
    const o = { fmnistDir: FMNIST_DIR, outDir: det, train: 1, val: 5, seed: 4 };
    await writeSyntheticDetection({ ...o, minSide: 64, maxSide: 64 });
  });

  const both = async (task: Task, data: string) => {
    const t0 = Date.now();
    const single = join(root, `${task}-single`);
    const one = await startRank(JSON.stringify({ task, data, out: single }), {}, CHILD).done;
    assert.equal(one.code, 0, one.stderr);
    const ddp = join(root, `${task}-ddp`);
    const arg = JSON.stringify({ task, data, out: ddp });
    for (const r of await runScriptJob(CHILD, arg, 2)) assert.equal(r.code, 0, r.stderr);
    return { single, ddp, ms: Date.now() - t0 };
  };

  it("classification: top-1, top-5 and mean per class from summed counts", async (t) => {
    const { single, ddp, ms } = await both("cls", "");
    const one = read(single, 0);
    const [r0, r1] = [read(ddp, 0), read(ddp, 1)];
    assert.equal(one.local, 33);
    assert.deepEqual([r0.local, r1.local], [17, 16], "each rank evaluates its share");
    for (const r of [r0, r1]) assert.deepEqual(r.metrics, { ...one.metrics, local: r.local });
    assert.equal(r0.metrics.count, 33);
    t.diagnostic(`top-1 ${one.metrics.top1}% (random model); both runs ${ms} ms`);
  });

  it("segmentation: mIoU from the summed confusion matrix; rank 0 writes all pictures", async (t) => {
    const { single, ddp, ms } = await both("seg", seg);
    const one = read(single, 0);
    const [r0, r1] = [read(ddp, 0), read(ddp, 1)];
    assert.equal(one.local, 5);
    assert.deepEqual([r0.local, r1.local], [3, 2], "each rank evaluates its share");
    let labelled = 0;
    for (const m of (await segFolder(seg, "val")).spec.masks ?? [])
      labelled += (await readMaskPng(m)).data.filter((v) => v !== 255).length;
    const pixels = (one.confusion ?? []).reduce((a, b) => a + b, 0);
    assert.equal(pixels, labelled, "every labelled pixel of the 5 images once");
    for (const r of [r0, r1]) {
      assert.deepEqual(r.confusion, one.confusion);
      assert.deepEqual(r.metrics, one.metrics);
    }
    // The same files, byte for byte: triptychs 0000 (rank 0's) and 0001 (rank 1's), 5 labels.
    const a = files(join(single, "seg"));
    const b = files(join(ddp, "seg"));
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    assert.ok(b.has(join("predictions", "0001.png")) && a.size === 2 + 5 + 2, [...a.keys()].join());
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} differs`);
    t.diagnostic(`mIoU ${one.metrics.mIoU}; both runs ${ms} ms`);
  });

  it("detection: AP from detections gathered in one process's order; rank 0 writes", async (t) => {
    const { single, ddp, ms } = await both("det", det);
    const one = read(single, 0);
    const [r0, r1] = [read(ddp, 0), read(ddp, 1)];
    assert.equal(one.local, 5);
    assert.deepEqual([r0.local, r1.local], [3, 2], "each rank detects its share");
    for (const r of [r0, r1]) assert.deepEqual(r.metrics, one.metrics);
    const a = files(join(single, "det"));
    const b = files(join(ddp, "det"));
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    assert.equal(a.size, 3, [...a.keys()].join()); // coco_results.json and 2 drawn images
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} differs`);
    const n = JSON.parse(a.get("coco_results.json")!.toString()).length;
    assert.ok(n > 0, "the random detector detects something");
    t.diagnostic(`${n} detections, AP50 ${one.metrics.AP50}; both runs ${ms} ms`);
  });

  it("KDEP validation loss: per-image sums added over the ranks (float tolerance)", async (t) => {
    const { single, ddp, ms } = await both("distill", "");
    const one = read(single, 0);
    const [r0, r1] = [read(ddp, 0), read(ddp, 1)];
    // Two passes of the 9 images: the initial one and the one after the epoch.
    assert.equal(one.local, 18);
    assert.deepEqual([r0.local, r1.local], [10, 8], "each rank evaluates its share");
    const want = one.metrics.initialValLoss as number;
    // Other batches than one process's (4+1 and 4 images vs 4+4+1): float32 means differ.
    for (const r of [r0, r1]) {
      const got = r.metrics.initialValLoss as number;
      assert.ok(Math.abs(got - want) <= 1e-6 * Math.abs(want), `${got} vs ${want}`);
    }
    t.diagnostic(`val loss ${want} vs ${r0.metrics.initialValLoss}; both runs ${ms} ms`);
  });
});
