// Every reader on small files of the real format, written by Python (PIL, pickle,
// tarfile); counts, labels, splits and pixels checked against what Python reads.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { caltech256 } from "../../src/data/datasets/caltech256.js";
import { cifar100 } from "../../src/data/datasets/cifar100.js";
import { cub200 } from "../../src/data/datasets/cub200.js";
import { cocoInstances, vocDetection } from "../../src/data/datasets/detection.js";
import { dtd } from "../../src/data/datasets/dtd.js";
import { fashionMnist } from "../../src/data/datasets/idx.js";
import { imageFolder, imageNet } from "../../src/data/datasets/imageFolder.js";
import { ade20k, cityscapes, voc2012Seg } from "../../src/data/datasets/segmentation.js";
import { MANIFEST_NAME, makeSubset } from "../../src/data/datasets/subset.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";
import { python, pythonScript, tempDir } from "./helpers.js";

const tmp = tempDir("datasets");
const root = tmp.dir;
// biome-ignore lint/suspicious/noExplicitAny: JSON written by make_fixtures.py
let truth: any;
before(() => {
  truth = JSON.parse(pythonScript("make_fixtures.py", [root]));
});
after(() => tmp.cleanup());

test("ImageFolder: same classes, samples and order as torchvision", async () => {
  const ds = await imageFolder(join(root, "folder"));
  assert.deepEqual(ds.classes, truth.imagefolder.classes);
  const samples = Array.from({ length: ds.length }, (_, i) => [
    relative(root, ds.get(i).where),
    ds.get(i).label,
  ]);
  assert.deepEqual(samples, truth.imagefolder.samples);
  const grey = await ds.get(samples.findIndex(([p]) => String(p).endsWith("x.jpeg"))).load();
  assert.equal(grey.channels, 3); // greyscale converted to RGB like PIL .convert("RGB")
  await assert.rejects(imageFolder(join(root, "nope")), /cannot list directory .*nope/);
});

describe("CIFAR-100", () => {
  const check = async (path: string): Promise<void> => {
    const train = await cifar100(path, "train");
    const test_ = await cifar100(path, "test");
    assert.equal(train.length, 50);
    assert.equal(test_.length, 20);
    assert.equal(train.classes.length, 100);
    assert.equal(train.classes[7], "class007");
    assert.deepEqual([...train.spec.labels], truth.cifar.train_labels);
    assert.deepEqual([...test_.spec.labels], truth.cifar.test_labels);
    const img = await train.get(0).load();
    assert.deepEqual([img.width, img.height, img.channels], [32, 32, 3]);
    assert.deepEqual([...img.data], truth.cifar.train0_hwc);
  };
  test("python pickles, extracted (protocol 2, as the real files)", () =>
    check(join(root, "cifar")));
  test("python pickles in cifar-100-python.tar.gz (protocol 4)", () =>
    check(join(root, "cifar-100-python.tar.gz")));
  test("binary version", async () => {
    const ds = await cifar100(join(root, "cifar-bin"), "test");
    assert.deepEqual([...ds.spec.labels], truth.cifar.test_labels);
    assert.equal(ds.classes.length, 100);
  });
  test("a missing file is named", async () => {
    await assert.rejects(cifar100(join(root, "dtd"), "train"), /found neither cifar-100-python/);
  });
});

test("DTD split 1: train = train1 + val1, test = test1, labels from the folder", async () => {
  const train = await dtd(join(root, "dtd"), "train", 1);
  const test_ = await dtd(join(root, "dtd"), "test", 1);
  assert.deepEqual(train.classes, ["banded", "blotchy", "zigzagged"]);
  assert.equal(train.length, 12);
  assert.equal(test_.length, 6);
  assert.deepEqual(test_.countsPerClass(), [2, 2, 2]);
  assert.match(test_.get(0).where, /banded_0002\.jpg$/);
  await assert.rejects(dtd(join(root, "dtd"), "test", 2), /cannot read .*test2\.txt/);
});

test("Caltech-256: categories sorted, first 60 by file index are train", async () => {
  const train = await caltech256(join(root, "caltech"), "train");
  const test_ = await caltech256(join(root, "caltech"), "test");
  assert.deepEqual(train.classes, ["001.ak47", "002.american-flag", "257.clutter"]);
  assert.deepEqual(train.countsPerClass(), [60, 60, 60]);
  assert.deepEqual(test_.countsPerClass(), [3, 1, 2]);
  assert.match(train.get(59).where, /001_0060\.jpg$/);
  assert.match(test_.get(0).where, /001_0061\.jpg$/);
});

test("CUB-200-2011: official split files", async () => {
  const train = await cub200(join(root, "cub"), "train");
  const test_ = await cub200(join(root, "cub"), "test");
  assert.deepEqual(train.countsPerClass(), [3, 3, 3]);
  assert.deepEqual(test_.countsPerClass(), [1, 1, 1]);
  assert.equal(train.classes[1], "002.Laysan_Albatross");
  assert.match(test_.get(2).where, /003\.Sooty_Albatross\/Sooty_Albatross_3\.jpg$/);
});

test("Fashion-MNIST: the real files, counts and labels as Python reads them", async () => {
  const dir = FMNIST_DIR;
  const train = await fashionMnist(dir, "train");
  const test_ = await fashionMnist(dir, "test");
  assert.equal(train.length, 60000);
  assert.equal(test_.length, 10000);
  const ref = JSON.parse(
    python(`
import gzip, json, numpy as np
d = "${dir}"
def rd(f, off): return np.frombuffer(gzip.open(f"{d}/{f}").read(), np.uint8, offset=off)
tl, sl = rd("train-labels-idx1-ubyte.gz", 8), rd("t10k-labels-idx1-ubyte.gz", 8)
ti = rd("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
print(json.dumps({"hist": np.bincount(tl).tolist(), "first": tl[:50].tolist(), "test_sum": int(sl.astype(np.int64) @ np.arange(len(sl))),
                  "img123": ti[123].ravel().tolist()}))
`),
  );
  assert.deepEqual(train.countsPerClass(), ref.hist);
  assert.deepEqual([...train.spec.labels.subarray(0, 50)], ref.first);
  let s = 0;
  test_.spec.labels.forEach((l, i) => {
    s += l * i;
  });
  assert.equal(s, ref.test_sum);
  const img = await train.get(123).load();
  assert.deepEqual(
    Array.from({ length: 784 }, (_, i) => img.data[3 * i]),
    ref.img123,
  );
});

describe("segmentation readers", () => {
  test("VOC2012: palette masks give class indices; train_aug list", async () => {
    const ds = await voc2012Seg(join(root, "voc"), "train");
    assert.equal(ds.length, 2);
    assert.equal(ds.classes.length, 21);
    const m = await ds.get(0).loadMask!();
    assert.deepEqual([m.width, m.height, m.channels], [16, 12, 1]);
    assert.equal(m.data[0], 255);
    assert.equal(m.data[3 * 16 + 4], 15);
    assert.equal(m.data[8 * 16 + 1], 0);
    const aug = await voc2012Seg(join(root, "voc"), "train", join(root, "voc", "train_aug.txt"));
    assert.match(aug.spec.masks![1], /SegmentationClassAug\/2007_000039\.png$/);
    assert.deepEqual((await aug.get(1).loadMask!()).data, m.data);
    const img = await ds.get(0).load();
    assert.deepEqual([img.width, img.height], [16, 12]);
  });
  test("Cityscapes: cities sorted, labelTrainIds masks", async () => {
    const ds = await cityscapes(join(root, "cityscapes"), "train");
    assert.equal(ds.length, 3);
    assert.match(ds.spec.masks![2], /bochum_000000_000019_gtFine_labelTrainIds\.png$/);
    assert.equal((await ds.get(1).loadMask!()).data[0], 18);
    await assert.rejects(cityscapes(join(root, "cityscapes"), "val"), /cannot list directory/);
  });
  test("ADE20K: labels shifted so 0 becomes 255 (ignore)", async () => {
    const ds = await ade20k(join(root, "ade"), "train");
    const m = await ds.get(0).loadMask!();
    assert.deepEqual([...m.data.subarray(0, 8)], [255, 0, 149, 6, 255, 1, 2, 3]);
  });
});

describe("detection readers", () => {
  test("COCO: sparse category ids to contiguous labels, XYWH to XYXY", async () => {
    const d = await cocoInstances(join(root, "coco.json"), "/imgs");
    assert.deepEqual(d.classes, ["person", "toothbrush"]);
    assert.equal(d.records.length, 2);
    assert.deepEqual(d.records[0].objects[0], {
      box: [10, 20, 40, 60],
      label: 1,
      iscrowd: false,
      area: 1200,
      segmentation: undefined,
    });
    assert.equal(d.records[0].objects[1].iscrowd, true);
    assert.equal(d.records[0].file, "/imgs/a.jpg");
  });
  test("VOC XML", async () => {
    const d = await vocDetection(join(root, "voc", "VOCdevkit", "VOC2012"), "train");
    const r = d.records[0];
    assert.deepEqual([r.width, r.height], [500, 281]);
    assert.deepEqual(r.objects[0], { box: [103, 77, 375, 183], label: 0, difficult: false });
    assert.equal(r.objects[1].label, d.classes.indexOf("person"));
    assert.equal(r.objects[1].difficult, true);
  });
});

test("makeSubset: class-balanced, deterministic, hard links, val/ and manifest", async () => {
  const src = join(root, "imagenet");
  const logs: string[] = [];
  const run = (dst: string, seed: number) =>
    makeSubset({ src, dst: join(root, dst), perClass: 4, seed, log: (m) => logs.push(m) });
  const a = await run("sub-a", 17);
  const b = await run("sub-b", 17);
  const c = await run("sub-c", 18);
  assert.deepEqual(a.files, b.files);
  assert.notDeepEqual(a.files, c.files);
  assert.ok(logs.some((l) => l.includes("seed 17")));
  const { train, val } = await imageNet(join(root, "sub-a"));
  assert.deepEqual(train.countsPerClass(), [4, 4, 4]);
  assert.equal(val.length, 3);
  const manifest = JSON.parse(await readFile(join(root, "sub-a", MANIFEST_NAME), "utf8"));
  assert.equal(manifest.seed, 17);
  assert.equal(manifest.trainImages, 12);
  assert.ok(statSync(train.get(0).where).nlink >= 2, "hard link expected");
  await assert.rejects(
    makeSubset({ src, dst: join(root, "sub-d"), perClass: 11, seed: 1, log: () => {} }),
    /fewer than --per-class 11/,
  );
});
