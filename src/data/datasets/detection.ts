// Detection annotation readers (index only; images are loaded with decodeRgb):
// COCO instances json and Pascal VOC XML. Boxes are XYXY in pixels; classes are
// contiguous 0..K-1 (COCO's sparse category ids mapped in id order, like Detectron2).
import { join } from "node:path";
import { lines, readText } from "./files.js";
import { VOC_CLASSES } from "./segmentation.js";

export interface DetObject {
  box: [number, number, number, number]; // x0, y0, x1, y1
  label: number;
  iscrowd?: boolean;
  difficult?: boolean;
  /** COCO's annotation area (of the mask), which decides small/medium/large. */
  area?: number;
  segmentation?: unknown; // COCO polygons / RLE, passed through
}

export interface DetRecord {
  file: string;
  id: number | string;
  width: number;
  height: number;
  objects: DetObject[];
}

export interface DetDataset {
  classes: string[];
  /** COCO: the category id of each class (for results files). */
  categoryIds?: number[];
  records: DetRecord[];
}

interface CocoJson {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: {
    image_id: number;
    bbox: number[];
    category_id: number;
    iscrowd?: number;
    area?: number;
    segmentation?: unknown;
  }[];
  categories: { id: number; name: string }[];
}

export async function cocoInstances(jsonPath: string, imageDir: string): Promise<DetDataset> {
  const what = `COCO(${jsonPath})`;
  let j: CocoJson;
  try {
    j = JSON.parse(await readText(jsonPath, what));
  } catch (err) {
    throw new Error(`${what}: invalid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(j.images) || !Array.isArray(j.annotations) || !Array.isArray(j.categories)) {
    throw new Error(`${what}: expected "images", "annotations" and "categories" arrays`);
  }
  const cats = [...j.categories].sort((a, b) => a.id - b.id);
  const catIndex = new Map(cats.map((c, i) => [c.id, i]));
  const byImage = new Map<number, DetRecord>();
  const records = j.images.map((im) => {
    const r: DetRecord = {
      file: join(imageDir, im.file_name),
      id: im.id,
      width: im.width,
      height: im.height,
      objects: [],
    };
    byImage.set(im.id, r);
    return r;
  });
  for (const a of j.annotations) {
    const r = byImage.get(a.image_id);
    const label = catIndex.get(a.category_id);
    if (!r) throw new Error(`${what}: annotation for unknown image id ${a.image_id}`);
    if (label === undefined)
      throw new Error(`${what}: annotation with unknown category id ${a.category_id}`);
    const [x, y, w, h] = a.bbox;
    r.objects.push({
      box: [x, y, x + w, y + h],
      label,
      iscrowd: a.iscrowd === 1,
      area: a.area,
      segmentation: a.segmentation,
    });
  }
  return { classes: cats.map((c) => c.name), categoryIds: cats.map((c) => c.id), records };
}

/** VOC detection: ImageSets/Main/<split>.txt ids, Annotations/<id>.xml, JPEGImages/<id>.jpg. */
export async function vocDetection(
  base: string,
  split: string,
  classes: string[] = VOC_CLASSES.slice(1),
): Promise<DetDataset> {
  const what = `VOC detection(${base})`;
  const index = new Map(classes.map((c, i) => [c, i]));
  const records: DetRecord[] = [];
  for (const id of lines(await readText(join(base, "ImageSets", "Main", `${split}.txt`), what))) {
    const xmlPath = join(base, "Annotations", `${id}.xml`);
    const rec = parseVocXml(await readText(xmlPath, what), xmlPath, index);
    records.push({ ...rec, file: join(base, "JPEGImages", `${id}.jpg`), id });
  }
  return { classes, records };
}

/** Parses one VOC annotation file (a fixed, flat schema: regexes suffice). */
export function parseVocXml(
  xml: string,
  what: string,
  index: Map<string, number>,
): Omit<DetRecord, "file" | "id"> {
  const tag = (s: string, t: string): string | undefined =>
    new RegExp(`<${t}>\\s*([^<]*?)\\s*</${t}>`).exec(s)?.[1];
  const num = (s: string, t: string): number => {
    const v = Number(tag(s, t));
    if (!Number.isFinite(v)) throw new Error(`${what}: missing or malformed <${t}>`);
    return v;
  };
  const size = /<size>([\s\S]*?)<\/size>/.exec(xml)?.[1];
  if (!size) throw new Error(`${what}: no <size> element`);
  const objects: DetObject[] = [];
  for (const m of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
    const o = m[1];
    const name = tag(o, "name");
    const label = name === undefined ? undefined : index.get(name);
    if (label === undefined) throw new Error(`${what}: unknown object class "${name}"`);
    const bb = /<bndbox>([\s\S]*?)<\/bndbox>/.exec(o)?.[1];
    if (!bb) throw new Error(`${what}: object "${name}" has no <bndbox>`);
    // VOC boxes are 1-based inclusive pixel indices; Detectron2 subtracts 1 from xmin/ymin.
    objects.push({
      box: [num(bb, "xmin") - 1, num(bb, "ymin") - 1, num(bb, "xmax"), num(bb, "ymax")],
      label,
      difficult: tag(o, "difficult") === "1",
    });
  }
  return { width: num(size, "width"), height: num(size, "height"), objects };
}
