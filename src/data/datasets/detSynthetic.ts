// An offline detection task: Fashion-MNIST items pasted at random positions and scales on
// larger noisy canvases, with tight boxes and classes known. Written once as JPEG images
// with COCO instances JSON (annotations/instances_<split>.json) and Pascal VOC XML
// (Annotations/, ImageSets/Main/<split>.txt) over the same JPEGImages/.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import { Rng } from "../rng.js";
import { exists } from "./files.js";
import { FASHION_MNIST_CLASSES, readIdx } from "./idx.js";

export interface SyntheticDetOptions {
  fmnistDir: string;
  outDir: string;
  /** Fashion-MNIST class indices used as object classes (in this order). */
  classes?: readonly number[];
  train: number;
  val: number;
  /** Canvas sides are drawn from [minSide, maxSide]. */
  minSide?: number;
  maxSide?: number;
  maxObjects?: number;
  /** Object scale over the 28-px glyph, drawn from [minScale, maxScale]. */
  minScale?: number;
  maxScale?: number;
  seed?: number;
}

interface Placed {
  box: [number, number, number, number];
  label: number;
}

interface Glyphs {
  pixels: Uint8Array;
  byClass: number[][];
}

async function loadGlyphs(dir: string, classes: readonly number[]): Promise<Glyphs> {
  const find = async (stem: string) => {
    for (const f of [`${stem}.gz`, stem]) if (await exists(join(dir, f))) return join(dir, f);
    throw new Error(`Fashion-MNIST: missing ${join(dir, stem)}(.gz)`);
  };
  const images = await readIdx(await find("train-images-idx3-ubyte"));
  const labels = await readIdx(await find("train-labels-idx1-ubyte"));
  const byClass = classes.map(() => [] as number[]);
  labels.data.forEach((l, i) => {
    const k = classes.indexOf(l);
    if (k >= 0) byClass[k].push(i);
  });
  return { pixels: images.data, byClass };
}

function overlap(a: Placed["box"], b: Placed["box"]): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const area = (x: Placed["box"]) => (x[2] - x[0]) * (x[3] - x[1]);
  return (w * h) / Math.min(area(a), area(b));
}

/** Draws one canvas (RGB bytes) and its objects. */
function drawCanvas(
  g: Glyphs,
  rng: Rng,
  o: Required<
    Omit<SyntheticDetOptions, "fmnistDir" | "outDir" | "train" | "val" | "seed" | "classes">
  >,
) {
  const width = Math.floor(rng.uniform(o.minSide, o.maxSide + 1));
  const height = Math.floor(rng.uniform(o.minSide, o.maxSide + 1));
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.floor(rng.random() * 40);
  const objects: Placed[] = [];
  const count = 1 + Math.floor(rng.random() * o.maxObjects);
  for (let n = 0, tries = 0; n < count && tries < 20; tries++) {
    const label = Math.floor(rng.random() * g.byClass.length);
    const pool = g.byClass[label];
    const src = pool[Math.floor(rng.random() * pool.length)] * 784;
    const side = Math.floor(28 * rng.uniform(o.minScale, o.maxScale));
    if (side >= width || side >= height) continue;
    const x0 = Math.floor(rng.random() * (width - side));
    const y0 = Math.floor(rng.random() * (height - side));
    let [bx0, by0, bx1, by1] = [side, side, -1, -1];
    const patch = new Uint8Array(side * side);
    for (let dy = 0; dy < side; dy++) {
      for (let dx = 0; dx < side; dx++) {
        const v = g.pixels[src + Math.floor((dy * 28) / side) * 28 + Math.floor((dx * 28) / side)];
        patch[dy * side + dx] = v;
        if (v > 30)
          [bx0, by0, bx1, by1] = [
            Math.min(bx0, dx),
            Math.min(by0, dy),
            Math.max(bx1, dx),
            Math.max(by1, dy),
          ];
      }
    }
    if (bx1 < bx0 + 2 || by1 < by0 + 2) continue;
    const box: Placed["box"] = [x0 + bx0, y0 + by0, x0 + bx1 + 1, y0 + by1 + 1];
    if (objects.some((p) => overlap(p.box, box) > 0.3)) continue;
    for (let dy = 0; dy < side; dy++) {
      for (let dx = 0; dx < side; dx++) {
        const i = (y0 + dy) * width + x0 + dx;
        gray[i] = Math.max(gray[i], patch[dy * side + dx]);
      }
    }
    objects.push({ box, label });
    n++;
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < gray.length; i++) rgb.fill(gray[i], i * 3, i * 3 + 3);
  return { rgb, width, height, objects };
}

function vocXml(
  id: string,
  width: number,
  height: number,
  objects: Placed[],
  names: string[],
): string {
  const objs = objects
    .map(
      (p) =>
        `  <object>\n    <name>${names[p.label]}</name>\n    <difficult>0</difficult>\n    <bndbox>\n` +
        `      <xmin>${p.box[0] + 1}</xmin>\n      <ymin>${p.box[1] + 1}</ymin>\n` +
        `      <xmax>${p.box[2]}</xmax>\n      <ymax>${p.box[3]}</ymax>\n    </bndbox>\n  </object>\n`,
    )
    .join("");
  return `<annotation>\n  <filename>${id}.jpg</filename>\n  <size>\n    <width>${width}</width>\n    <height>${height}</height>\n    <depth>3</depth>\n  </size>\n${objs}</annotation>\n`;
}

/** Writes the task under outDir; returns the class names (category ids are 1-based). */
export async function writeSyntheticDetection(opts: SyntheticDetOptions): Promise<string[]> {
  const classes = opts.classes ?? [0, 1, 5, 8];
  const names = classes.map((c) => FASHION_MNIST_CLASSES[c].replace("/", "-"));
  const o = {
    minSide: opts.minSide ?? 96,
    maxSide: opts.maxSide ?? 160,
    maxObjects: opts.maxObjects ?? 3,
    minScale: opts.minScale ?? 1.2,
    maxScale: opts.maxScale ?? 2.5,
  };
  const g = await loadGlyphs(opts.fmnistDir, classes);
  const root = opts.outDir;
  for (const d of ["JPEGImages", "Annotations", "ImageSets/Main", "annotations"]) {
    await mkdir(join(root, d), { recursive: true });
  }
  let annId = 1;
  for (const [split, n, stream] of [
    ["train", opts.train, 1],
    ["val", opts.val, 2],
  ] as const) {
    const rng = new Rng(opts.seed ?? 0, stream);
    const coco = {
      images: [] as object[],
      annotations: [] as object[],
      categories: names.map((name, i) => ({ id: i + 1, name })),
    };
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${split}_${String(i).padStart(5, "0")}`;
      const c = drawCanvas(g, rng, o);
      const jpeg = await sharp(c.rgb, { raw: { width: c.width, height: c.height, channels: 3 } })
        .jpeg({ quality: 95 })
        .toBuffer();
      await writeFile(join(root, "JPEGImages", `${id}.jpg`), jpeg);
      await writeFile(
        join(root, "Annotations", `${id}.xml`),
        vocXml(id, c.width, c.height, c.objects, names),
      );
      coco.images.push({
        id: i + 1,
        file_name: `JPEGImages/${id}.jpg`,
        width: c.width,
        height: c.height,
      });
      for (const p of c.objects) {
        const [x1, y1, x2, y2] = p.box;
        coco.annotations.push({
          id: annId++,
          image_id: i + 1,
          category_id: p.label + 1,
          bbox: [x1, y1, x2 - x1, y2 - y1],
          area: (x2 - x1) * (y2 - y1),
          iscrowd: 0,
        });
      }
      ids.push(id);
    }
    await writeFile(join(root, "ImageSets/Main", `${split}.txt`), `${ids.join("\n")}\n`);
    atomicWriteFile(
      join(root, "annotations", `instances_${split}.json`),
      new TextEncoder().encode(JSON.stringify(coco)),
    );
  }
  return names;
}
