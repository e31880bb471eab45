// The loader: determinism across worker counts, sampling, corrupt files, abort, exit.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { imageFolder } from "../../src/data/datasets/imageFolder.js";
import { decodeRgb } from "../../src/data/image.js";
import { type Batch, DataLoader, type EpochReport } from "../../src/data/loader.js";
import { Rng } from "../../src/data/rng.js";
import { epochIndices } from "../../src/data/sampler.js";
import { colorJitter, colorJitterParams, lightingOffset } from "../../src/data/transforms/color.js";
import { colorJitterLazy, lazy, writeNormalizedChw } from "../../src/data/transforms/fused.js";
import { hflipInPlace, resizedCrop } from "../../src/data/transforms/geometry.js";
import { kdepTrainTransform, type TransformStep } from "../../src/data/transforms/pipeline.js";
import { toNormalizedChw } from "../../src/data/transforms/tensor.js";
import { maxAbsDiff, python, tempDir } from "./helpers.js";

const tmp = tempDir("loader");
const root = join(tmp.dir, "folder");
const small: TransformStep[] = [
  { op: "randomResizedCrop", size: 32 },
  { op: "hflip" },
  { op: "colorJitter", brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
  { op: "toTensor" },
  { op: "lighting", alphaStd: 0.1 },
  { op: "normalize", mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
];

before(() => {
  // 3 classes × 10 JPEGs of varied sizes, written by PIL.
  python(
    `
import os, sys, numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.default_rng(0)
for c in range(3):
    os.makedirs(f"{root}/class{c}", exist_ok=True)
    for i in range(10):
        w, h = int(rng.integers(40, 90)), int(rng.integers(40, 90))
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(f"{root}/class{c}/{i:02d}.jpg")
`,
    [root],
  );
});
after(() => tmp.cleanup());

type LoaderOptions = Partial<ConstructorParameters<typeof DataLoader>[1]>;

async function makeLoader(numWorkers: number, opts: LoaderOptions = {}): Promise<DataLoader> {
  const ds = await imageFolder(root);
  return new DataLoader(ds, {
    batchSize: 8,
    shuffle: true,
    seed: 5,
    numWorkers,
    transform: small,
    ...opts,
  });
}

async function collect(
  numWorkers: number,
  epoch: number,
  opts: LoaderOptions = {},
): Promise<Batch[]> {
  const loader = await makeLoader(numWorkers, opts);
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  await loader.close();
  return out;
}

test("same seed: identical batches with 0, 1 and 2 workers", async () => {
  const [a, b, c] = [await collect(0, 3), await collect(1, 3), await collect(2, 3)];
  assert.equal(a.length, 4); // 30 samples, batch 8, last batch of 6 kept
  assert.deepEqual(a[3].shape, [6, 3, 32, 32]);
  for (const other of [b, c]) {
    assert.equal(other.length, a.length);
    for (let k = 0; k < a.length; k++) {
      assert.deepEqual(other[k].indices, a[k].indices);
      assert.deepEqual(other[k].labels, a[k].labels);
      assert.deepEqual(other[k].images, a[k].images);
    }
  }
});

test("released batch buffers are refilled, and the batches stay the same", async () => {
  const ref = await collect(0, 2);
  for (const numWorkers of [0, 2]) {
    const loader = await makeLoader(numWorkers);
    const seen = new Set<ArrayBufferLike>();
    const released: Batch[] = [];
    let refilled = 0;
    for (let round = 0; round < 2; round++) {
      let k = 0;
      for await (const b of loader.epoch(2)) {
        if (seen.has(b.images.buffer)) refilled++; // same buffer back (no workers)
        seen.add(b.images.buffer);
        assert.deepEqual(b.images, ref[k].images, `workers ${numWorkers}, batch ${k}`);
        assert.deepEqual(b.indices, ref[k++].indices);
        b.release();
        released.push(b);
      }
    }
    await loader.close();
    // With workers a reused buffer was transferred to one: the released view is empty.
    refilled += released.filter((b) => b.images.length === 0).length;
    assert.ok(refilled > 0, `workers ${numWorkers}: no buffer was reused`);
  }
});

test("without the kdep_image addon (sharp + TypeScript loops) the batches are identical", async () => {
  // The fallback decodes JPEGs with sharp, resizes and runs the colour loops in
  // TypeScript; the addon path must give the same bytes, hue and extrapolating jitter
  // included (\`small\`).
  const loaderJs = resolve(import.meta.dirname, "../../src/data/loader.js");
  const folderJs = resolve(import.meta.dirname, "../../src/data/datasets/imageFolder.js");
  const addonJs = resolve(import.meta.dirname, "../../src/data/imageAddon.js");
  const out = join(tmp.dir, "fallback.bin");
  const script = `
import { writeFileSync } from "node:fs";
import { imageAddon } from ${JSON.stringify(addonJs)};
if (imageAddon) throw new Error("the addon was loaded");
import { DataLoader } from ${JSON.stringify(loaderJs)};
import { imageFolder } from ${JSON.stringify(folderJs)};
const ds = await imageFolder(${JSON.stringify(root)});
const l = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 5, numWorkers: 0,
  transform: ${JSON.stringify(small)} });
const parts = [];
for await (const b of l.epoch(1)) parts.push(Buffer.from(b.images.buffer));
writeFileSync(${JSON.stringify(out)}, Buffer.concat(parts));
`;
  execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, KDEP_IMAGE_ADDON: "0" },
    timeout: 60000,
  });
  const fallback = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
  const ours = (await collect(0, 1)).flatMap((b) => [...(b.images as Float32Array)]);
  assert.equal(fallback.length, ours.length);
  assert.equal(maxAbsDiff(fallback, ours), 0);
});

test("epochs reshuffle; every sample once per epoch; labels follow indices", async () => {
  const e0 = await collect(2, 0);
  const e1 = await collect(2, 1);
  const flat = (bs: Batch[]): number[] => bs.flatMap((b) => [...b.indices]);
  assert.deepEqual(
    [...flat(e0)].sort((x, y) => x - y),
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.notDeepEqual(flat(e0), flat(e1));
  for (const b of e0) {
    for (let k = 0; k < b.indices.length; k++)
      assert.equal(b.labels[k], Math.floor(b.indices[k] / 10));
  }
});

test("dropLast, int64 labels, uint8 NHWC output", async () => {
  const bs = await collect(1, 0, {
    dropLast: true,
    labelDtype: "int64",
    transform: [{ op: "centerCrop", size: 24 }],
  });
  assert.equal(bs.length, 3);
  assert.ok(bs[0].labels instanceof BigInt64Array);
  assert.ok(bs[0].images instanceof Uint8Array);
  assert.deepEqual(bs[0].shape, [8, 24, 24, 3]);
});

test("DistributedSampler: padding by repetition, disjoint strided shards", () => {
  const o = { shuffle: false, seed: 0 };
  const r = [0, 1, 2, 3].map((rank) => [
    ...epochIndices(10, 0, { ...o, distributed: { rank, worldSize: 4 } }),
  ]);
  assert.deepEqual(r, [
    [0, 4, 8],
    [1, 5, 9],
    [2, 6, 0],
    [3, 7, 1],
  ]); // torch: indices += indices[:2]
  const d = [0, 1, 2, 3].map((rank) => [
    ...epochIndices(10, 0, { ...o, distributed: { rank, worldSize: 4, dropLast: true } }),
  ]);
  assert.deepEqual(d, [
    [0, 4],
    [1, 5],
    [2, 6],
    [3, 7],
  ]);
});

test("the fused fast path equals the op-by-op transforms", async () => {
  const img = await decodeRgb(join(root, "class0", "00.jpg"), "x");
  for (let s = 0; s < 30; s++) {
    const rng = new Rng(s);
    const box = { left: 3, top: 5, width: 30, height: 28 };
    const jit = colorJitterParams(rng, {
      brightness: 0.5,
      contrast: 0.5,
      saturation: 0.5,
      hue: s % 2 ? 0.2 : 0,
    });
    const stage = {
      offset: lightingOffset([0.1, -0.2, 0.05]),
      clamp: true,
      mean: [0.4, 0.5, 0.6],
      std: [0.2, 0.3, 0.25],
    };
    const flip = s % 3 === 0;
    const a = resizedCrop(img, box, 32, 32);
    if (flip) hflipInPlace(a);
    colorJitter(a, jit);
    const ref = new Float32Array(3 * 32 * 32);
    toNormalizedChw(a, stage, ref, 0);
    const p = lazy(resizedCrop(img, box, 32, 32));
    p.flip = flip;
    colorJitterLazy(p, jit);
    const got = new Float32Array(3 * 32 * 32);
    writeNormalizedChw(p, stage, got, 0);
    assert.deepEqual(got, ref, `case ${s}`);
  }
});

test("a corrupt image fails the epoch naming the file; skipBadImages replaces it and reports", async () => {
  const bad = join(tmp.dir, "bad");
  mkdirSync(join(bad, "a"), { recursive: true });
  mkdirSync(join(bad, "b"), { recursive: true });
  python(
    `
import sys, numpy as np
from PIL import Image
for i in range(6):
    Image.fromarray(np.full((20, 20, 3), i * 40, np.uint8)).save(f"{sys.argv[1]}/{'ab'[i % 2]}/{i}.png")
`,
    [bad],
  );
  writeFileSync(join(bad, "b", "9.png"), Buffer.from("\x89PNG\r\n\x1a\n truncated"));
  const ds = await imageFolder(bad);
  const t: TransformStep[] = [{ op: "centerCrop", size: 16 }];
  const strict = new DataLoader(ds, { batchSize: 7, numWorkers: 2, transform: t });
  await assert.rejects(async () => {
    for await (const _ of strict.epoch(0));
  }, /Cannot decode image .*b\/9\.png/);
  const reports: EpochReport[] = [];
  const runs: Batch[][] = [];
  for (const numWorkers of [0, 2]) {
    const lenient = new DataLoader(ds, {
      batchSize: 7,
      numWorkers,
      transform: t,
      skipBadImages: true,
      seed: 1,
      onEpochEnd: (r) => reports.push(r),
    });
    const bs: Batch[] = [];
    for await (const b of lenient.epoch(0)) bs.push(b);
    await lenient.close();
    runs.push(bs);
    assert.equal(bs[0].shape[0], 7); // the batch keeps its size
    assert.ok(!bs[0].indices.includes(ds.length - 1)); // b/9.png sorts last
  }
  assert.deepEqual(runs[0][0].indices, runs[1][0].indices); // same replacement either way
  // The replacement draw may hit the bad file again (then it is skipped again).
  assert.ok(reports[0].skipped.length >= 1);
  for (const s of reports[0].skipped) assert.match(s.where, /9\.png$/);
  assert.deepEqual(reports[0].skipped, reports[1].skipped);
});

test("abort stops the epoch and the workers", async () => {
  const ds = await imageFolder(root);
  const loader = new DataLoader(ds, { batchSize: 2, numWorkers: 2, transform: small });
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(async () => {
    for await (const _ of loader.epoch(0, ac.signal)) if (++n === 2) ac.abort(new Error("stop"));
  }, /stop/);
  assert.equal(n, 2);
});

test("a program that never calls close() still exits (idle workers are unref'd)", () => {
  const loaderJs = resolve(import.meta.dirname, "../../src/data/loader.js");
  const folderJs = resolve(import.meta.dirname, "../../src/data/datasets/imageFolder.js");
  const script = `
import { DataLoader } from ${JSON.stringify(loaderJs)};
import { imageFolder } from ${JSON.stringify(folderJs)};
const ds = await imageFolder(${JSON.stringify(root)});
const l = new DataLoader(ds, { batchSize: 4, numWorkers: 2, transform: [{ op: "centerCrop", size: 8 }] });
let n = 0;
for await (const b of l.epoch(0)) { n++; if (n === 2) break; }
console.log("done", n);
`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 20000,
  });
  assert.match(out, /done 2/);
});

test("the KDEP recipe pipeline produces normalised 224 batches", async () => {
  const bs = await collect(2, 0, { transform: kdepTrainTransform(), batchSize: 4 });
  assert.deepEqual(bs[0].shape, [4, 3, 224, 224]);
  const x = bs[0].images as Float32Array;
  const min = x.reduce((a, b) => Math.min(a, b));
  const max = x.reduce((a, b) => Math.max(a, b));
  // clamp to [0,1] then normalise: bounds are (0 − 0.485)/0.229 … (1 − 0.406)/0.225
  assert.ok(min >= -0.485 / 0.229 - 1e-5 && max <= 0.594 / 0.225 + 1e-5, `${min} ${max}`);
});
