// Detection data for transfer: which annotation files a --dataset names under --data, and
// the checks every entry must pass before training starts (a clear error naming the file
// and the entry). Images without objects are kept for evaluation and skipped in training,
// as torchvision's reference scripts do.
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  cocoInstances,
  type DetDataset,
  type DetRecord,
  vocDetection,
} from "../../../data/datasets/detection.js";
import { readText } from "../../../data/datasets/files.js";

export type DetDatasetKind = "voc" | "coco" | "folder";

/** Boxes may pass the image border by this much (rounding in exported annotations); clipped. */
const BORDER_SLACK = 1;

/** Checks and clips a dataset in place; throws on the first bad entry. */
export function validateDetDataset(ds: DetDataset, what: string): DetDataset {
  if (ds.records.length === 0) throw new Error(`${what}: no images listed`);
  for (const r of ds.records) {
    if (!existsSync(r.file))
      throw new Error(`${what}: image ${r.id} is listed but missing (${r.file})`);
    r.objects.forEach((o, k) => {
      const [x1, y1, x2, y2] = o.box;
      const at = `${what}: image ${r.id}, object ${k} (box [${o.box.join(", ")}])`;
      if (!o.box.every(Number.isFinite)) throw new Error(`${at}: not a number`);
      if (x2 <= x1 || y2 <= y1) throw new Error(`${at}: x2 ≤ x1 or y2 ≤ y1`);
      if (o.label < 0 || o.label >= ds.classes.length)
        throw new Error(`${at}: class ${o.label} out of range`);
      const s = BORDER_SLACK;
      if (x1 < -s || y1 < -s || x2 > r.width + s || y2 > r.height + s) {
        throw new Error(`${at}: outside the ${r.width}×${r.height} image`);
      }
      o.box = [Math.max(0, x1), Math.max(0, y1), Math.min(r.width, x2), Math.min(r.height, y2)];
    });
  }
  return ds;
}

/** Training images: those with at least one object that is not a crowd region. */
export function trainableRecords(ds: DetDataset): DetRecord[] {
  return ds.records.filter((r) => r.objects.some((o) => !o.iscrowd));
}

async function coco(json: string, imageDir: string): Promise<DetDataset> {
  if ((await readText(json, `COCO(${json})`)).trim() === "") {
    throw new Error(`COCO(${json}): the annotation file is empty`);
  }
  return validateDetDataset(await cocoInstances(json, imageDir), `COCO(${json})`);
}

function concat(parts: DetDataset[]): DetDataset {
  return { classes: parts[0].classes, records: parts.flatMap((p) => p.records) };
}

/**
 * voc: DIR holds VOC2007 (and VOC2012) with trainval/test, or is one VOC folder with
 * train(val)/val|test; `classes` replaces VOC's 20 for a VOC-layout dataset of one's own.
 * coco: DIR/annotations/instances_{train,val}2017.json over DIR/{train,val}2017.
 * folder: DIR/annotations/instances_{train,val}.json, file names relative to DIR.
 */
export async function loadDetection(
  kind: DetDatasetKind,
  dir: string,
  classes?: string[],
): Promise<{ train: DetDataset; test: DetDataset }> {
  if (kind === "coco") {
    const ann = (s: string) => join(dir, "annotations", `instances_${s}2017.json`);
    return {
      train: await coco(ann("train"), join(dir, "train2017")),
      test: await coco(ann("val"), join(dir, "val2017")),
    };
  }
  if (kind === "folder") {
    const ann = (s: string) => join(dir, "annotations", `instances_${s}.json`);
    return { train: await coco(ann("train"), dir), test: await coco(ann("val"), dir) };
  }
  const split = (base: string, name: string) =>
    existsSync(join(base, "ImageSets", "Main", `${name}.txt`));
  const voc = async (base: string, name: string) =>
    validateDetDataset(await vocDetection(base, name, classes), `VOC(${base}, ${name})`);
  if (existsSync(join(dir, "Annotations"))) {
    const tr = split(dir, "trainval") ? "trainval" : "train";
    const te = split(dir, "test") ? "test" : "val";
    return { train: await voc(dir, tr), test: await voc(dir, te) };
  }
  const trainParts = ["VOC2007", "VOC2012"].filter((y) => split(join(dir, y), "trainval"));
  if (trainParts.length === 0) {
    throw new Error(
      `VOC(${dir}): no VOC2007/ or VOC2012/ with ImageSets/Main/trainval.txt, and no Annotations/`,
    );
  }
  return {
    train: concat(await Promise.all(trainParts.map((y) => voc(join(dir, y), "trainval")))),
    test: await voc(join(dir, "VOC2007"), "test"),
  };
}
