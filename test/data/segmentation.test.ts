// Segmentation transforms (image + mask jointly) against torchvision/PIL with fixed
// parameters, and the loader's mask batches.
//
// Tolerances: none. Every geometric step is bit-identical to Pillow 9.x — resize
// (antialiased bilinear / nearest), rotate (bilinear truncating / 16.16 fixed-point
// nearest), pad, crop, flip — and the blur is exact integer arithmetic, so images and
// masks must be equal byte for byte. Only the float write (to_tensor + normalize) is
// compared with a tolerance, 1e-5: we round to float32 once, torch after each op.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Dataset } from "../../src/data/datasets/dataset.js";
import { voc2012Seg } from "../../src/data/datasets/segmentation.js";
import { type DecodedImage, decodeRgb } from "../../src/data/image.js";
import { type Batch, DataLoader } from "../../src/data/loader.js";
import { readMaskPng } from "../../src/data/png.js";
import { Rng, STREAM_SAMPLE } from "../../src/data/rng.js";
import { gaussianBlurCv } from "../../src/data/transforms/blur.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../src/data/transforms/pipeline.js";
import {
  applySegOps,
  applySegSteps,
  SEG_FILL,
  type SegOp,
  type SegPair,
  segEvalTransform,
  segParams,
  segTrainTransform,
  splitSegTransform,
} from "../../src/data/transforms/segmentation.js";
import { makeImage, maxAbsDiff, python, pythonScript, tempDir } from "./helpers.js";

const tmp = tempDir("seg");
const LABELS = [0, 3, 7, 15, 20, 255];

/** Writes a label mask: Voronoi regions of LABELS[0..4], 255 on region borders. */
function makeMask(path: string, width: number, height: number, seed: number, palette = false) {
  python(
    `
import sys, numpy as np
from PIL import Image
w, h, seed, path, pal = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
rng = np.random.default_rng(seed)
y, x = np.mgrid[0:h, 0:w]
cx, cy = rng.uniform(0, w, 7), rng.uniform(0, h, 7)
region = ((x[..., None] - cx) ** 2 + (y[..., None] - cy) ** 2).argmin(-1)
m = np.array([0, 3, 7, 15, 20, 3, 7], np.uint8)[region]
edge = np.zeros(m.shape, bool)
edge[:, 1:] |= m[:, 1:] != m[:, :-1]
edge[1:] |= m[1:] != m[:-1]
m[edge] = 255
if pal:
    p = Image.fromarray(m, "P")
    p.putpalette([v for c in range(256) for v in ((c * 37) % 256, (c * 91) % 256, (c * 53) % 256)])
    p.save(path)
else:
    Image.fromarray(m, "L").save(path)
`,
    [String(width), String(height), String(seed), path, palette ? "1" : "0"],
  );
}

interface Ref {
  img: Uint8Array;
  imgF32: Float32Array;
  mask: Uint8Array;
  width: number;
  height: number;
}

type RefOp = SegOp | { op: "normalize"; mean: number[]; std: number[] };

/** Runs test/data/py/seg_ref.py on named cases. */
function reference(cases: Record<string, { image: string; mask: string; ops: RefOp[] }>) {
  const out = join(tmp.dir, `ref-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  pythonScript("seg_ref.py", [out, JSON.stringify(cases)]);
  const refs: Record<string, Ref> = {};
  for (const name of Object.keys(cases)) {
    const bytes = readFileSync(join(out, `${name}.img.bin`));
    const size = JSON.parse(readFileSync(join(out, `${name}.json`), "utf8"));
    refs[name] = {
      img: new Uint8Array(bytes),
      imgF32: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2),
      mask: new Uint8Array(readFileSync(join(out, `${name}.mask.bin`))),
      ...size,
    };
  }
  return refs;
}

/** Count of positions where a and b differ, and the first few of them. */
function mismatches(a: Uint8Array, b: Uint8Array): string {
  assert.equal(a.length, b.length, "lengths differ");
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) bad.push(i);
  return bad.length === 0
    ? ""
    : `${bad.length}/${a.length} differ, first at ${bad
        .slice(0, 5)
        .map((i) => `[${i}] ${a[i]} vs ${b[i]}`)
        .join(", ")}`;
}

function assertEqualBytes(ours: Uint8Array, ref: Uint8Array, what: string): void {
  assert.equal(mismatches(ours, ref), "", what);
}

function labelSet(d: Uint8Array): Set<number> {
  return new Set(d);
}

// Fixtures: odd and even sizes; PNG so that both sides decode the same pixels.
const pics: { name: string; w: number; h: number }[] = [
  { name: "odd", w: 67, h: 53 },
  { name: "even", w: 40, h: 64 },
];
const img = (n: string) => join(tmp.dir, `${n}.png`);
const msk = (n: string) => join(tmp.dir, `${n}_mask.png`);
const decoded = new Map<string, SegPair>();

before(async () => {
  pics.forEach((p, i) => {
    makeImage(img(p.name), p.w, p.h, i + 1);
    makeMask(msk(p.name), p.w, p.h, i + 1);
  });
  for (const p of pics) {
    decoded.set(p.name, {
      image: await decodeRgb(img(p.name), p.name),
      mask: await readMaskPng(msk(p.name)),
    });
  }
});
after(() => tmp.cleanup());

function pair(name: string): SegPair {
  const p = decoded.get(name)!;
  // Fresh copies: the ops may work in place.
  return {
    image: { ...p.image, data: p.image.data.slice() },
    mask: { ...p.mask, data: p.mask.data.slice() },
  };
}

type Pic = (typeof pics)[number];

/** Applies each op list to each picture, ours vs the reference, and demands equality. */
function checkOps(opLists: Record<string, SegOp[] | ((p: Pic) => SegOp[])>): void {
  const opsFor = (p: Pic, k: string): SegOp[] => {
    const o = opLists[k];
    return typeof o === "function" ? o(p) : o;
  };
  const cases: Record<string, { image: string; mask: string; ops: RefOp[] }> = {};
  for (const p of pics)
    for (const k of Object.keys(opLists))
      cases[`${p.name}_${k}`] = { image: img(p.name), mask: msk(p.name), ops: opsFor(p, k) };
  const refs = reference(cases);
  for (const p of pics) {
    for (const k of Object.keys(opLists)) {
      const ops = opsFor(p, k);
      const name = `${p.name}_${k}`;
      const ours = applySegOps(pair(p.name), ops);
      const ref = refs[name];
      assert.deepEqual([ours.image.width, ours.image.height], [ref.width, ref.height], name);
      assert.deepEqual([ours.mask.width, ours.mask.height], [ref.width, ref.height], name);
      assertEqualBytes(ours.image.data, ref.img, `${name}: image`);
      assertEqualBytes(ours.mask.data, ref.mask, `${name}: mask`);
      const allowed = new Set([...labelSet(decoded.get(p.name)!.mask.data), 255]);
      for (const v of labelSet(ours.mask.data)) assert.ok(allowed.has(v), `${name}: label ${v}`);
    }
  }
}

describe("joint transforms match torchvision/PIL with fixed parameters", () => {
  test("scale: bilinear image, nearest mask (up, down, non-integer factors)", () => {
    const sizes: [number, number][] = [
      [34, 27],
      [113, 90],
      [47, 61],
      [20, 16],
      [134, 106],
    ];
    const lists: Record<string, SegOp[]> = {};
    sizes.forEach(([width, height], i) => {
      lists[`resize${i}`] = [{ op: "resize", width, height }];
    });
    checkOps(lists);
  });

  test("rotate: about the centre, image filled with the mean, mask with 255", () => {
    const angles = [7.3, -9.8, 0.37, -0.001, 10, -10, 3.3, 45, 90, -123.4];
    const lists: Record<string, SegOp[]> = {};
    angles.forEach((angle, i) => {
      lists[`rot${i}`] = [{ op: "rotate", angle, fill: SEG_FILL, ignore: 255 }];
    });
    checkOps(lists);
  });

  test("blur: cv2.GaussianBlur((5, 5), 0) = binomial 1-4-6-4-1, reflect-101, exact", () => {
    checkOps({ blur5: [{ op: "blur", ksize: 5 }], blur3: [{ op: "blur", ksize: 3 }] });
    // A single bright pixel spreads as the outer product of [1, 4, 6, 4, 1] / 16.
    const dot: DecodedImage = { data: new Uint8Array(7 * 7), width: 7, height: 7, channels: 1 };
    dot.data[3 * 7 + 3] = 255;
    const b = gaussianBlurCv(dot, 5).data;
    assert.equal(b[3 * 7 + 3], Math.round((255 * 36) / 256)); // 35.86 → 36
    assert.equal(b[1 * 7 + 1], Math.round((255 * 1) / 256)); // corner tap: 0.996 → 1
  });

  test("pad with mean / 255 + crop (rand offsets, centre), and flip", () => {
    // The crop steps' own parameters for each picture (sizes [height, width]).
    const cropOps =
      (size: [number, number], type: "rand" | "center", seed = 0) =>
      (p: Pic): SegOp[] =>
        segParams(new Rng(seed), [{ op: "crop", size, type, fill: SEG_FILL }], p.w, p.h);
    checkOps({
      // Larger than both pictures in both directions: padding on all four sides.
      padCentre: cropOps([75, 81], "center"),
      // Larger in one direction only, random offsets along the other.
      padRand1: cropOps([60, 30], "rand", 1),
      padRand2: cropOps([30, 60], "rand", 2),
      crop: cropOps([33, 37], "rand", 3),
      flip: [{ op: "hflip" }],
    });
  });
});

describe("the training pipeline", () => {
  // The PIL reference replays geometry; photometric.test.ts checks the colour step vs cv2.
  const train = segTrainTransform({ crop: 48, scale: [0.5, 2.0], photoMetric: false });

  test("drawn parameters replayed by the reference give identical outputs", async () => {
    const lists: Record<string, RefOp[]> = {};
    const ours: Record<string, SegPair> = {};
    const kinds = new Set<string>();
    for (const p of pics) {
      for (let s = 0; s < 8; s++) {
        const rng = new Rng(11, 0, s, STREAM_SAMPLE);
        const ops = segParams(rng, train.steps.slice(0, 5), p.w, p.h);
        for (const o of ops) kinds.add(o.op);
        lists[`${p.name}_${s}`] = ops;
        ours[`${p.name}_${s}`] = applySegOps(pair(p.name), ops);
      }
    }
    // The seeds exercise every kind of step.
    assert.deepEqual([...kinds].sort(), ["blur", "hflip", "padCrop", "resize", "rotate"]);
    const cases: Record<string, { image: string; mask: string; ops: RefOp[] }> = {};
    for (const [name, ops] of Object.entries(lists)) {
      const pic = name.split("_")[0];
      cases[name] = { image: img(pic), mask: msk(pic), ops };
      cases[`${name}_f`] = {
        image: img(pic),
        mask: msk(pic),
        ops: [...ops, { op: "normalize", mean: IMAGENET_MEAN, std: IMAGENET_STD }],
      };
    }
    const refs = reference(cases);
    for (const [name, o] of Object.entries(ours)) {
      assert.deepEqual(
        [o.image.width, o.image.height, o.mask.width, o.mask.height],
        [48, 48, 48, 48],
      );
      assertEqualBytes(o.image.data, refs[name].img, `${name}: image`);
      assertEqualBytes(o.mask.data, refs[name].mask, `${name}: mask`);
    }
    // The float write (to_tensor + normalize), through the loader's code path.
    const ds = new Dataset({
      name: "pics",
      classes: [],
      labels: new Int32Array(1).fill(-1),
      source: { kind: "files", paths: [img("odd")] },
      masks: [msk("odd")],
    });
    const loader = new DataLoader(ds, { batchSize: 1, seed: 11, transform: train });
    // Sample 0 of epoch 0 uses Rng(11, 0, 0): the case "odd_0".
    let seen = 0;
    for await (const b of loader.epoch(0)) {
      assert.ok(b.images instanceof Float32Array);
      assert.ok(maxAbsDiff(b.images, refs.odd_0_f.imgF32) <= 1e-5);
      assertEqualBytes(Uint8Array.from(b.masks!, Number), refs.odd_0_f.mask, "mask batch");
      seen++;
    }
    assert.equal(seen, 1);
  });

  test("random draws: scale range, rotate and flip coins, crop offsets in range", () => {
    let flips = 0;
    let rotates = 0;
    let blurs = 0;
    const offsets = new Set<number>();
    for (let s = 0; s < 400; s++) {
      const ops = segParams(new Rng(3, 1, s, STREAM_SAMPLE), train.steps.slice(0, 5), 100, 80);
      let [w, h] = [100, 80];
      for (const o of ops) {
        if (o.op === "resize") {
          assert.ok(o.width >= 50 && o.width <= 200 && o.height >= 40 && o.height <= 160);
          assert.ok(Math.abs(o.width / 100 - o.height / 80) < 0.02, "one factor for both sides");
          [w, h] = [o.width, o.height];
        }
        if (o.op === "rotate") {
          rotates++;
          assert.ok(o.angle >= -10 && o.angle <= 10);
        }
        if (o.op === "blur") blurs++;
        if (o.op === "hflip") flips++;
        if (o.op === "padCrop") {
          const [l, t, r, b] = o.pad;
          // Padding only up to the crop size, split evenly; the window inside.
          assert.deepEqual([l + r, t + b], [Math.max(48 - w, 0), Math.max(48 - h, 0)]);
          assert.ok(l <= r && l + 1 >= r && t <= b && t + 1 >= b);
          assert.ok(o.left >= 0 && o.left + 48 <= w + l + r);
          assert.ok(o.top >= 0 && o.top + 48 <= h + t + b);
          offsets.add(o.left);
        }
      }
    }
    for (const [n, what] of [
      [flips, "flip"],
      [rotates, "rotate"],
      [blurs, "blur"],
    ] as const)
      assert.ok(n > 150 && n < 250, `${what} coin p=0.5: ${n}/400`);
    assert.ok(offsets.has(0) && offsets.size > 20, "crop offsets vary and reach 0");
  });

  test("computing only the crop's window equals transforming whole images, then cropping", () => {
    const steps = splitSegTransform(
      segTrainTransform({ crop: [20, 28], scale: [0.6, 2.4], degrees: [-30, 30] }),
    ).pixel;
    let windows = 0;
    for (const p of pics) {
      for (let s = 0; s < 40; s++) {
        const ops = segParams(new Rng(8, 0, s), steps, p.w, p.h);
        const cropOp = ops[ops.length - 1];
        assert.equal(cropOp.op, "padCrop");
        const whole = applySegOps(pair(p.name), ops.slice(0, -1));
        if (whole.image.width > 28 || whole.image.height > 20) windows++;
        const expected = applySegOps(whole, [cropOp]);
        const got = applySegOps(pair(p.name), ops);
        assertEqualBytes(got.image.data, expected.image.data, `${p.name} ${s}: image`);
        assertEqualBytes(got.mask.data, expected.mask.data, `${p.name} ${s}: mask`);
      }
    }
    assert.ok(windows > 60, `crops smaller than the image: ${windows}/80`);
  });

  test("label set preserved: masks hold only their own labels and 255", () => {
    const allowed = new Set(LABELS);
    for (const p of pics) {
      const own = labelSet(decoded.get(p.name)!.mask.data);
      for (let s = 0; s < 20; s++) {
        const out = applySegSteps(pair(p.name), train.steps.slice(0, 5), new Rng(5, 0, s));
        for (const v of labelSet(out.mask.data)) {
          assert.ok(allowed.has(v) && (own.has(v) || v === 255), `${p.name} seed ${s}: ${v}`);
        }
      }
    }
  });

  test("eval: centre crop pads with the mean colour and 255", () => {
    const ops = segParams(new Rng(0), segEvalTransform({ crop: 72 }).steps.slice(0, 1), 67, 53);
    assert.deepEqual(ops, [
      {
        op: "padCrop",
        pad: [2, 9, 3, 10],
        left: 0,
        top: 0,
        width: 72,
        height: 72,
        fill: SEG_FILL,
        ignore: 255,
      },
    ]);
    const out = applySegOps(pair("odd"), ops);
    assert.deepEqual([...out.image.data.subarray(0, 3)], [124, 116, 104]);
    assert.equal(out.mask.data[0], 255);
    assert.equal(out.mask.data[72 * 72 - 1], 255);
  });
});

describe("loader: mask batches", () => {
  const voc = join(tmp.dir, "VOCdevkit", "VOC2012");
  const ids = Array.from({ length: 10 }, (_, i) => `2007_${String(i).padStart(6, "0")}`);

  before(() => {
    for (const d of ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"])
      mkdirSync(join(voc, d), { recursive: true });
    ids.forEach((id, i) => {
      const w = 40 + ((i * 13) % 30);
      const h = 36 + ((i * 7) % 25);
      makeImage(join(voc, "JPEGImages", `${id}.jpg`), w, h, i);
      makeMask(join(voc, "SegmentationClass", `${id}.png`), w, h, i, true);
    });
    writeFileSync(join(voc, "ImageSets/Segmentation/train.txt"), `${ids.join("\n")}\n`);
  });

  async function collect(
    numWorkers: number,
    ds?: Dataset,
    seed = 2,
    skipBadImages = false,
  ): Promise<Batch[]> {
    const data = ds ?? (await voc2012Seg(join(tmp.dir, "VOCdevkit"), "train"));
    const loader = new DataLoader(data, {
      batchSize: 4,
      shuffle: true,
      seed,
      numWorkers,
      skipBadImages,
      onEpochEnd: () => {},
      transform: segTrainTransform({ crop: 48, scale: [0.5, 1.5] }),
    });
    const out: Batch[] = [];
    try {
      for await (const b of loader.epoch(1)) out.push(b);
    } finally {
      await loader.close();
    }
    return out;
  }

  test("VOC fixture: float32 [N,3,H,W] images, int64 [N,H,W] masks, labels kept", async () => {
    const batches = await collect(0);
    assert.deepEqual(
      batches.map((b) => b.shape),
      [
        [4, 3, 48, 48],
        [4, 3, 48, 48],
        [2, 3, 48, 48],
      ],
    );
    const ds = await voc2012Seg(join(tmp.dir, "VOCdevkit"), "train");
    for (const b of batches) {
      assert.ok(b.images instanceof Float32Array);
      assert.ok(b.masks instanceof BigInt64Array);
      assert.equal(b.masks.length, b.shape[0] * 48 * 48);
      // Each sample equals the joint transform applied directly with its generator.
      for (let k = 0; k < b.indices.length; k++) {
        const i = b.indices[k];
        const src = { image: await ds.get(i).load(), mask: await ds.get(i).loadMask!() };
        const own = labelSet(src.mask.data);
        const out = applySegSteps(
          src,
          splitSegTransform(segTrainTransform({ crop: 48, scale: [0.5, 1.5] })).pixel,
          new Rng(2, 1, i, STREAM_SAMPLE),
        );
        const m = b.masks.subarray(k * 48 * 48, (k + 1) * 48 * 48);
        assertEqualBytes(Uint8Array.from(m, Number), out.mask.data, `sample ${i}`);
        for (const v of m) assert.ok(own.has(Number(v)) || v === 255n, `label ${v}`);
      }
    }
    const all = new Set(batches.flatMap((b) => [...b.masks!].map(Number)));
    assert.ok(all.has(255) && all.has(0) && all.size >= 4, `labels seen: ${[...all]}`);
  });

  test("same seed: identical batches with 0 and 2 workers", async () => {
    const [a, b] = [await collect(0), await collect(2)];
    assert.equal(a.length, b.length);
    for (let k = 0; k < a.length; k++) {
      assert.deepEqual(b[k].indices, a[k].indices);
      assert.deepEqual(b[k].images, a[k].images);
      assert.deepEqual(b[k].masks, a[k].masks);
    }
    const c = await collect(0, undefined, 3);
    assert.notDeepEqual(c[0].images, a[0].images);
  });

  test("a mask of the wrong size or a corrupt mask fails naming the file", async () => {
    const ds = await voc2012Seg(join(tmp.dir, "VOCdevkit"), "train");
    const bad = join(tmp.dir, "small_mask.png");
    makeMask(bad, 20, 20, 0);
    const corrupt = join(tmp.dir, "corrupt_mask.png");
    writeFileSync(corrupt, readFileSync(msk("odd")).subarray(0, 60));
    for (const [file, why] of [
      [bad, /small_mask\.png is 20x20, but its image .*2007_000003\.jpg is \d+x\d+/],
      [corrupt, /corrupt_mask\.png/],
    ] as const) {
      const masks = ds.spec.masks!.slice();
      masks[3] = file;
      const broken = new Dataset({ ...ds.spec, masks });
      for (const workers of [0, 1]) {
        await assert.rejects(collect(workers, broken), why, `${file} with ${workers} workers`);
      }
      // skipBadImages: the sample is replaced by a seeded redraw, and the mask is named.
      const batches = await collect(1, broken, 2, true);
      const skipped = batches.flatMap((b) => b.skipped);
      assert.ok(skipped.length >= 1 && skipped.every((k) => k.index === 3 && k.where === file));
      assert.equal(
        batches.reduce((n, b) => n + b.indices.length, 0),
        10,
      );
      assert.ok(batches.every((b) => !b.indices.includes(3)));
    }
  });

  test("without toTensor: uint8 HWC images beside the masks; full-size eval at batch 1", async () => {
    const ds = await voc2012Seg(join(tmp.dir, "VOCdevkit"), "train");
    const crop = segEvalTransform({ crop: [30, 50] }).steps.slice(0, 1);
    const loader = new DataLoader(ds, {
      batchSize: 3,
      transform: { kind: "segmentation", steps: crop },
    });
    const b = (await loader.epoch(0).next()).value as Batch;
    assert.ok(b.images instanceof Uint8Array);
    assert.deepEqual(b.shape, [3, 30, 50, 3]);
    assert.equal(b.masks!.length, 3 * 30 * 50);
    // No crop: each sample keeps its own size, so only batch size 1 works.
    const full = new DataLoader(ds, { batchSize: 1, transform: segEvalTransform({ crop: null }) });
    const first = (await full.epoch(0).next()).value as Batch;
    const src = await ds.get(0).loadMask!();
    assert.deepEqual(first.shape, [1, 3, src.height, src.width]);
    assert.deepEqual(Uint8Array.from(first.masks!, Number), src.data);
    const many = new DataLoader(ds, { batchSize: 2, transform: segEvalTransform({ crop: null }) });
    await assert.rejects(many.epoch(0).next(), /add a crop so all samples have one size/);
  });

  test("a segmentation transform on a dataset without masks is refused", () => {
    const plain = new Dataset({
      name: "plain",
      classes: ["a"],
      labels: new Int32Array(1),
      source: { kind: "files", paths: [img("odd")] },
    });
    assert.throws(
      () => new DataLoader(plain, { batchSize: 1, transform: segEvalTransform() }),
      /plain has no label masks/,
    );
  });
});
