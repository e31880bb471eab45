// The teacher-target cache: what it stores is the teacher's target for the very crop
// distill draws; a build stopped or killed anywhere resumes to the same bytes; a corrupt
// or mismatched cache is refused with an error naming what is wrong.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DataLoader } from "../../src/data/loader.js";
import { createModel } from "../../src/models/registry.js";
import { toTensors } from "../../src/pipelines/common/batches.js";
import {
  epochFile,
  imageListHash,
  partFile,
  progressFile,
} from "../../src/pipelines/kdep/targetCacheFormat.js";
import { TargetCache } from "../../src/pipelines/kdep/targetCacheReader.js";
import { runTargets } from "../../src/pipelines/kdep/targetCacheWriter.js";
import * as T from "../../src/tensor/index.js";
import { fmnistSmall, TRAIN_32 } from "./fixtures/fmnist.js";
import { targetsFixture } from "./fixtures/targetsFixture.js";

const tmp = () => mkdtempSync(join(tmpdir(), "kdep-targets-"));

/** Every file of a cache folder, name → bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

function assertSameCache(a: string, b: string): void {
  const [x, y] = [snapshot(a), snapshot(b)];
  assert.deepEqual([...y.keys()].sort(), [...x.keys()].sort());
  for (const [f, bytes] of x) assert.ok(bytes.equals(y.get(f)!), `${f} differs`);
}

describe("teacher-target cache", async () => {
  const f = await targetsFixture(3, true);

  it("holds the teacher's projected target of the crop distill draws for (epoch, index)", async () => {
    const out = tmp();
    // The cache is built by the teacher with its BN folded; compare with the model as loaded.
    const teacher = createModel("resnet18", { numClasses: 0, width: 8, preReluFeature: true });
    teacher.loadStateDict(f.teacher.stateDict());
    teacher.eval();
    const r = await runTargets(f.inputs(out));
    assert.ok(f.teacher.inferenceOnly, "runTargets folded its teacher");
    assert.equal(r.stopped, false);
    assert.equal(r.chunks, 2 * 4); // 30 images in chunks of 8, two epochs
    const cache = new TargetCache(out);
    // The distill loader: shuffled, another batch size; the crop is keyed by (seed, e, i).
    const loader = new DataLoader(f.data, {
      batchSize: 7,
      transform: TRAIN_32,
      shuffle: true,
      seed: 5,
      labelDtype: "int64",
    });
    let worst = 0;
    for (const e of [0, 1]) {
      for await (const b of loader.epoch(e)) {
        const idx = Array.from(b.indices);
        T.tidy(() => {
          const { images } = toTensors(b);
          const feat = T.noGrad(() =>
            teacher.forwardHead(teacher.forwardFeatures(images), { preLogits: true }),
          );
          const want = feat.sub(f.svd.mean).matmul(f.svd.V.narrow(1, 0, 16));
          const got = cache.targets(e, idx);
          // float16 keeps 11 significant bits: |error| ≤ 2^-11·|z|, plus fp32 noise of another
          // batch size (2^-16·|z|) and the subnormal spacing (1e-6).
          const err = got.sub(want).abs();
          const bound = want
            .abs()
            .mul(2 ** -11 + 2 ** -16)
            .add(1e-6);
          worst = Math.max(worst, err.div(bound).max().item());
          // k sliced for a smaller student: the first columns, bit for bit.
          const small = cache.targets(e, idx, 5);
          assert.deepEqual(small.toArray(), got.narrow(1, 0, 5).contiguous().toArray());
          // Another epoch's crop gives another target: the key really is (epoch, index).
          const other = cache.targets(1 - e, idx);
          assert.ok(other.sub(want).abs().max().item() > 1e-2);
        });
      }
    }
    console.log(`worst |cached − teacher| / ((2^-11 + 2^-16)·|z| + 1e-6): ${worst.toFixed(3)}`);
    assert.ok(worst <= 1, `cached targets off by ${worst}× the fp16 rounding bound`);
    cache.close();
  });

  it("resumes a stopped build, and a chunk written but not recorded, to the same bytes", async () => {
    const [whole, part] = [tmp(), tmp()];
    await runTargets(f.inputs(whole));
    const first = await runTargets({ ...f.inputs(part), stopAfterChunks: 5 });
    assert.equal(first.stopped, true);
    assert.equal(existsSync(epochFile(part, 1)), false);
    // A kill after the data write but before the progress record; a stale temp file.
    appendFileSync(partFile(part, 1), Buffer.alloc(1000, 7));
    writeFileSync(join(part, `.${"epoch-0001.progress.json"}.999999.1.tmp`), "{");
    const rest = await runTargets(f.inputs(part));
    assert.equal(rest.chunks, 3);
    assert.equal(existsSync(progressFile(part, 1)), false);
    assertSameCache(whole, part); // the stale temp file is gone too
  });

  it("a build SIGKILLed mid-write resumes to a byte-identical cache", async () => {
    const [whole, killed] = [tmp(), tmp()];
    const g = await targetsFixture(10);
    await runTargets({ ...g.inputs(whole), batchSize: 4 });
    const child = fileURLToPath(new URL("./fixtures/targetsChild.js", import.meta.url));
    const p = spawn(process.execPath, [child, killed, "10"], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((res) => p.on("exit", (_c, s) => res(s)));
    // Kill once a few chunks are on disk, mid-epoch 0 (25 chunks per epoch).
    while (!existsSync(progressFile(killed, 0)) && p.exitCode === null)
      await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30));
    p.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");
    assert.equal(existsSync(epochFile(killed, 1)), false, "the child was killed before finishing");
    const r = await runTargets({ ...g.inputs(killed), batchSize: 4 });
    assert.ok(r.chunks > 25 && r.chunks < 50, `resumed ${r.chunks} chunks`);
    assertSameCache(whole, killed);
  });

  it("names the file and chunk of a flipped byte, and a truncated file", async () => {
    const out = tmp();
    await runTargets(f.inputs(out));
    const path = epochFile(out, 1);
    const bytes = readFileSync(path);
    bytes[2 * 8 * 16 * 2 + 5] ^= 0x10; // chunk 2 starts at row 16
    writeFileSync(path, bytes);
    const cache = new TargetCache(out);
    assert.doesNotThrow(() => cache.rows(1, [0, 9, 29])); // chunks 0, 1, 3 are intact
    assert.throws(
      () => cache.rows(1, [17]),
      /epoch-0001\.bin: chunk 2 \(images 16–23\) fails its checksum/,
    );
    cache.close();
    truncateSync(path, bytes.length - 2);
    assert.throws(() => new TargetCache(out).rows(1, [0]), /epoch-0001\.bin is 958 bytes/);
  });

  it("refuses a mismatch of each kind, naming it", async () => {
    const out = tmp();
    await runTargets({ ...f.inputs(out), epochs: 1 });
    const cache = new TargetCache(out);
    const ok = {
      teacher: "resnet18@fixture",
      svd: "svd-fixture",
      seed: 5,
      transform: TRAIN_32,
      images: imageListHash(f.data),
      k: 16,
      epochs: 1,
    };
    assert.doesNotThrow(() => cache.check(ok));
    assert.doesNotThrow(() => cache.check({ ...ok, k: 8 })); // sliced
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { teacher: "resnet50@abc" },
        /teacher: the cache has "resnet18@fixture", this run "resnet50@abc"/,
      ],
      [{ svd: "other" }, /svd: the cache has "svd-fixture"/],
      [{ seed: 6 }, /seed: the cache has 5, this run 6/],
      [{ transform: TRAIN_32.slice(1) }, /augmentation: the cache has/],
      [{ images: imageListHash(await fmnistSmall(4)) }, /images: the cache has \{"count":30/],
      [{ k: 17 }, /k: the cache holds 16 dims, this student needs 17/],
      [{ epochs: 2 }, /epochs: the cache holds 1, this run trains 2/],
    ];
    for (const [change, re] of cases) assert.throws(() => cache.check({ ...ok, ...change }), re);
    // Two at once: both named.
    assert.throws(() => cache.check({ ...ok, seed: 1, k: 99 }), /seed: .*; k: /);
    // The writer refuses to build into it with other settings, and keeps it.
    await assert.rejects(
      runTargets({ ...f.inputs(out), epochs: 1, seed: 9 }),
      /built with other settings \(seed: the cache has 5, this run 9\)/,
    );
    assert.equal(new TargetCache(out).manifest.seed, 5);
  });
});
