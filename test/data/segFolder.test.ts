// The offline segmentation task (Fashion-MNIST objects pasted on canvases) in both layouts,
// read back by the folder and VOC readers; the folder reader's refusals, each naming the file.
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { segFolder } from "../../src/data/datasets/segFolder.js";
import { voc2012Seg } from "../../src/data/datasets/segmentation.js";
import { readMaskPng } from "../../src/data/png.js";
import { writePastedTask } from "../../src/data/segSynth.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir("segfolder");
after(() => tmp.cleanup());
const CLASSES = ["Coat", "Ankle boot"];
let root = "";

/** A fresh copy of the generated task to break. */
function copy(name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(root, dir, { recursive: true });
  return dir;
}

async function writeMask(path: string, data: number[], w: number, h: number) {
  await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace("b-w")
    .png()
    .toFile(path);
}

describe("segmentation folder datasets", () => {
  before(async () => {
    root = await writePastedTask({
      fmnistDir: FMNIST_DIR,
      out: join(tmp.dir, "task"),
      classes: CLASSES,
      train: 6,
      val: 3,
      size: 40,
    });
  });

  it("writes the folder layout: lists, classes, RGB images and masks with objects and ignore rims", async () => {
    assert.deepEqual(readFileSync(join(root, "classes.txt"), "utf8").trim().split("\n"), [
      "background",
      ...CLASSES,
    ]);
    const train = await segFolder(root, "train");
    const val = await segFolder(root, "val");
    assert.deepEqual([train.length, val.length], [6, 3]);
    const seen = new Set<number>();
    for (const m of train.spec.masks!) for (const v of (await readMaskPng(m)).data) seen.add(v);
    assert.ok(seen.has(0) && seen.has(255), "background and ignore pixels");
    assert.ok(seen.has(1) || seen.has(2), "object pixels");
    assert.ok([...seen].every((v) => v <= 2 || v === 255));
    assert.ok(!readdirSync(tmp.dir).some((f) => f.includes(".tmp-")), "no temp folder left");
  });

  it("is deterministic for a seed and refuses to overwrite", async () => {
    const again = await writePastedTask({
      fmnistDir: FMNIST_DIR,
      out: join(tmp.dir, "again"),
      classes: CLASSES,
      train: 6,
      val: 3,
      size: 40,
    });
    for (const f of ["images/train_00003.png", "masks/val_00002.png"])
      assert.ok(readFileSync(join(root, f)).equals(readFileSync(join(again, f))), f);
    await assert.rejects(
      writePastedTask({ fmnistDir: FMNIST_DIR, out: root, classes: CLASSES, train: 1, val: 1 }),
      /already exists/,
    );
    await assert.rejects(
      writePastedTask({
        fmnistDir: FMNIST_DIR,
        out: join(tmp.dir, "bad"),
        classes: ["Hat"],
        train: 1,
        val: 1,
      }),
      /Unknown Fashion-MNIST class "Hat"/,
    );
    assert.ok(!existsSync(join(tmp.dir, "bad")));
    assert.ok(!readdirSync(tmp.dir).some((f) => f.includes(".tmp-")), "temp folder removed");
  });

  it("writes the VOC layout, which the VOC2012 reader loads", async () => {
    const voc = await writePastedTask({
      fmnistDir: FMNIST_DIR,
      out: join(tmp.dir, "vocdevkit"),
      classes: CLASSES,
      train: 4,
      val: 2,
      size: 40,
      layout: "voc",
    });
    const ds = await voc2012Seg(join(tmp.dir, "vocdevkit"), "train");
    assert.equal(ds.length, 4);
    assert.equal(ds.spec.masks![0], join(voc, "SegmentationClass", "train_00000.png"));
    assert.equal((await voc2012Seg(voc, "val")).length, 2);
  });

  it("train/ and val/ sub-folders work without lists", async () => {
    const dir = copy("subdirs");
    for (const split of ["train", "val"]) {
      rmSync(join(dir, `${split}.txt`));
      for (const kind of ["images", "masks"]) {
        mkdirSync(join(dir, kind, split));
        for (const f of readdirSync(join(dir, kind)).filter((f) => f.startsWith(`${split}_`)))
          renameSync(join(dir, kind, f), join(dir, kind, split, f));
      }
    }
    assert.equal((await segFolder(dir, "train")).length, 6);
    assert.equal((await segFolder(dir, "val")).length, 3);
  });

  it("refuses a mask value ≥ classes that is not 255, naming the mask and the pixel", async () => {
    const dir = copy("badvalue");
    const m = join(dir, "masks", "train_00002.png");
    const mask = await readMaskPng(m);
    const data = Array.from(mask.data);
    data[5] = 7;
    await writeMask(m, data, mask.width, mask.height);
    await assert.rejects(segFolder(dir, "train"), (e: Error) => {
      assert.match(e.message, /train_00002\.png has value 7 at \(x 5, y 0\); expected 0\.\.2/);
      return true;
    });
  });

  it("refuses an image/mask size mismatch, naming both files", async () => {
    const dir = copy("badsize");
    await writeMask(join(dir, "masks", "val_00001.png"), new Array(30 * 40).fill(0), 30, 40);
    await assert.rejects(
      segFolder(dir, "val"),
      /mask .*masks\/val_00001\.png is 30x40, but its image .*images\/val_00001\.png is 40x40/,
    );
  });

  it("refuses a missing list entry and an empty split, naming the list", async () => {
    const dir = copy("badlist");
    writeFileSync(join(dir, "train.txt"), "train_00000\nnot_there\n");
    await assert.rejects(
      segFolder(dir, "train"),
      /train\.txt line 2 names "not_there", but images\/ has no such image/,
    );
    rmSync(join(dir, "masks", "train_00000.png"));
    writeFileSync(join(dir, "train.txt"), "train_00000\n");
    await assert.rejects(
      segFolder(dir, "train"),
      /line 1 names "train_00000", but .*masks\/train_00000\.png is missing/,
    );
    writeFileSync(join(dir, "val.txt"), "\n\n");
    await assert.rejects(segFolder(dir, "val"), /split "val" is empty \(.*val\.txt\)/);
    rmSync(join(dir, "classes.txt"));
    await assert.rejects(segFolder(dir, "val"), /cannot read .*classes\.txt/);
  });
});
