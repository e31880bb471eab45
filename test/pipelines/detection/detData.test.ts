// The offline detection task read back through both readers (COCO JSON and VOC XML agree),
// and bad annotations rejected with an error naming the file and the entry.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeSyntheticDetection } from "../../../src/data/datasets/detSynthetic.js";
import { loadDetection, trainableRecords } from "../../../src/pipelines/transfer/detection/data.js";
import { FMNIST_DIR } from "../fixtures/fmnist.js";

let root: string;
let names: string[];
before(async () => {
  root = mkdtempSync(join(tmpdir(), "kdep-det-"));
  names = await writeSyntheticDetection({
    fmnistDir: FMNIST_DIR,
    outDir: root,
    train: 6,
    val: 3,
    seed: 1,
  });
});
after(() => rmSync(root, { recursive: true, force: true }));

type Coco = {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; bbox: number[]; category_id: number }[];
  categories: { id: number; name: string }[];
};
const annPath = () => join(root, "annotations", "instances_train.json");
const original = () => JSON.parse(readFileSync(annPath(), "utf8")) as Coco;

/** Rewrites the train annotations (edited, or replaced by `raw`), expects `check`, restores. */
async function withAnnotations(
  edit: (j: Coco) => void,
  check: RegExp,
  raw?: string,
): Promise<void> {
  const saved = readFileSync(annPath(), "utf8");
  try {
    const j = original();
    edit(j);
    writeFileSync(annPath(), raw ?? JSON.stringify(j));
    await assert.rejects(loadDetection("folder", root), check);
  } finally {
    writeFileSync(annPath(), saved);
  }
}

describe("offline detection task", () => {
  it("COCO JSON and VOC XML describe the same boxes and classes", async () => {
    const coco = await loadDetection("folder", root);
    const voc = await loadDetection("voc", root, names);
    assert.deepEqual(coco.train.classes, names);
    assert.equal(coco.train.records.length, 6);
    assert.equal(coco.test.records.length, 3);
    coco.train.records.forEach((r, i) => {
      const v = voc.train.records[i];
      assert.equal(r.file, v.file);
      assert.deepEqual([r.width, r.height], [v.width, v.height]);
      assert.ok(r.objects.length >= 1, "every canvas has an object");
      assert.deepEqual(
        r.objects.map((o) => [o.label, ...o.box]),
        v.objects.map((o) => [o.label, ...o.box]),
      );
      for (const o of r.objects) {
        assert.ok(o.box[0] >= 0 && o.box[2] <= r.width && o.box[2] > o.box[0] + 2);
      }
    });
    assert.equal(trainableRecords(coco.train).length, 6);
  });

  it("rejects bad annotations with the file and entry named", async () => {
    const file = annPath().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    await withAnnotations(
      (j) => {
        j.annotations[0].bbox = [5, 5, 0, 10];
      },
      new RegExp(`COCO\\(${file}\\): image 1, object 0 .*x2 ≤ x1`),
    );
    await withAnnotations((j) => {
      j.annotations[0].bbox = [j.images[0].width - 5, 5, 20, 10];
    }, /image 1, object 0 .*outside the \d+×\d+ image/);
    await withAnnotations((j) => {
      j.annotations[1].category_id = 99;
    }, /unknown category id 99/);
    await withAnnotations(() => {}, /the annotation file is empty/, "");
    await withAnnotations((j) => {
      j.images[2].file_name = "JPEGImages/nowhere.jpg";
    }, /image 3 is listed but missing .*nowhere\.jpg/);
    await withAnnotations((j) => {
      j.images = [];
      j.annotations = [];
    }, /no images listed/);
  });

  it("VOC: an unknown class name and a missing annotation file are named", async () => {
    await assert.rejects(
      loadDetection("voc", root),
      /Annotations\/train_00000\.xml: unknown object class/,
    );
    const xml = join(root, "Annotations", "val_00001.xml");
    const saved = readFileSync(xml);
    unlinkSync(xml);
    try {
      await assert.rejects(loadDetection("voc", root, names), /val_00001\.xml/);
    } finally {
      writeFileSync(xml, saved);
    }
  });
});
