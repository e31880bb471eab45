// An offline segmentation task that needs no download: Fashion-MNIST objects pasted onto
// larger textured canvases, with per-pixel class masks (0 = background, k = the k-th chosen
// class, 255 = ignore on the soft rim of each object, as VOC marks object borders).
// Written in the `folder` layout (images/, masks/, train.txt, val.txt, classes.txt) or the
// VOC2012 layout (JPEGImages/, SegmentationClass/, ImageSets/Segmentation/), into a
// temporary folder renamed into place at the end, so a stopped run leaves nothing behind.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import sharp from "sharp";
import type { Dataset } from "./datasets/dataset.js";
import { fashionMnist } from "./datasets/idx.js";
import { Rng } from "./rng.js";

export interface PastedTaskOptions {
  /** Folder of the Fashion-MNIST idx files. */
  fmnistDir: string;
  out: string;
  /** Fashion-MNIST class names to paste (class k+1 of the task is classes[k]). */
  classes: string[];
  train: number;
  val: number;
  /** Canvas side in pixels (64). */
  size?: number;
  /** Objects per canvas, inclusive range ([1, 3]). */
  objects?: [number, number];
  /** Object scale range relative to 28 px ([0.8, 1.6]). */
  scale?: [number, number];
  layout?: "folder" | "voc";
  seed?: number;
}

interface Canvas {
  rgb: Uint8Array;
  mask: Uint8Array;
}

/** A dark two-colour gradient plus grain (Fashion-MNIST's objects are light on black, so
 * features learnt there apply; the background is still not a constant). */
function background(rng: Rng, n: number): Canvas {
  const c0 = [0, 1, 2].map(() => rng.uniform(0, 70));
  const c1 = [0, 1, 2].map(() => rng.uniform(0, 70));
  const angle = rng.uniform(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const rgb = new Uint8Array(n * n * 3);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x - n / 2) * dx + (y - n / 2) * dy) / n));
      for (let k = 0; k < 3; k++) {
        const v = c0[k] * (1 - t) + c1[k] * t + rng.uniform(-8, 8);
        rgb[(y * n + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  return { rgb, mask: new Uint8Array(n * n) };
}

/** Pastes a 28×28 grey object (nearest-neighbour scaled, tinted) with its class into c. */
function paste(c: Canvas, n: number, obj: Uint8Array, cls: number, rng: Rng, scale: number): void {
  const s = Math.max(8, Math.round(28 * scale));
  const x0 = rng.randint(0, Math.max(1, n - s + 1));
  const y0 = rng.randint(0, Math.max(1, n - s + 1));
  const tint = [0, 1, 2].map(() => rng.uniform(150, 255));
  for (let y = 0; y < s && y0 + y < n; y++)
    for (let x = 0; x < s && x0 + x < n; x++) {
      const a = obj[Math.floor((y * 28) / s) * 28 + Math.floor((x * 28) / s)] / 255;
      if (a <= 0.08) continue;
      const p = (y0 + y) * n + x0 + x;
      for (let k = 0; k < 3; k++)
        c.rgb[p * 3 + k] = Math.round(c.rgb[p * 3 + k] * (1 - a) + tint[k] * a);
      c.mask[p] = a > 0.3 ? cls : 255;
    }
}

function objectPool(ds: Dataset, classes: string[]): number[][] {
  const ids = classes.map((name) => {
    const i = ds.classes.indexOf(name);
    if (i < 0)
      throw new Error(
        `Unknown Fashion-MNIST class "${name}"; expected one of ${ds.classes.join(", ")}`,
      );
    return i;
  });
  const pool = ids.map(() => [] as number[]);
  ds.spec.labels.forEach((l, i) => {
    const k = ids.indexOf(l);
    if (k >= 0) pool[k].push(i);
  });
  return pool;
}

async function writePng(path: string, data: Uint8Array, n: number, channels: 1 | 3, jpeg = false) {
  const img = sharp(Buffer.from(data), { raw: { width: n, height: n, channels } });
  // A one-channel mask stays a greyscale PNG (sharp would otherwise write RGB).
  const out = channels === 1 ? img.toColourspace("b-w") : img;
  await (jpeg ? out.jpeg({ quality: 95 }) : out.png()).toFile(path);
}

/** Writes the task; returns the folder (for VOC: the VOC2012 folder inside `out`). */
export async function writePastedTask(o: PastedTaskOptions): Promise<string> {
  if (existsSync(o.out)) throw new Error(`${o.out} already exists; choose a new folder`);
  const n = o.size ?? 64;
  const [lo, hi] = o.objects ?? [1, 3];
  const [s0, s1] = o.scale ?? [0.8, 1.6];
  const voc = (o.layout ?? "folder") === "voc";
  const tmp = `${o.out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const base = voc ? join(tmp, "VOC2012") : tmp;
  const dirs = voc
    ? { img: "JPEGImages", mask: "SegmentationClass", lists: "ImageSets/Segmentation" }
    : { img: "images", mask: "masks", lists: "." };
  for (const d of Object.values(dirs)) mkdirSync(join(base, d), { recursive: true });
  try {
    for (const [split, count, source] of [
      ["train", o.train, "train"],
      ["val", o.val, "test"],
    ] as const) {
      const ds = await fashionMnist(o.fmnistDir, source);
      const pool = objectPool(ds, o.classes);
      const src = ds.spec.source as { data: Uint8Array };
      const names: string[] = [];
      for (let i = 0; i < count; i++) {
        const rng = new Rng(o.seed ?? 0, split === "train" ? 0 : 1, i, 7);
        const c = background(rng, n);
        const k = lo + rng.randint(0, hi - lo + 1);
        for (let j = 0; j < k; j++) {
          const cls = rng.randint(0, o.classes.length);
          const idx = pool[cls][rng.randint(0, pool[cls].length)];
          paste(
            c,
            n,
            src.data.subarray(idx * 784, idx * 784 + 784),
            cls + 1,
            rng,
            rng.uniform(s0, s1),
          );
        }
        const name = `${split}_${String(i).padStart(5, "0")}`;
        await writePng(join(base, dirs.img, `${name}.${voc ? "jpg" : "png"}`), c.rgb, n, 3, voc);
        await writePng(join(base, dirs.mask, `${name}.png`), c.mask, n, 1);
        names.push(name);
      }
      writeFileSync(join(base, dirs.lists, `${split}.txt`), `${names.join("\n")}\n`);
    }
    if (!voc)
      writeFileSync(join(base, "classes.txt"), `${["background", ...o.classes].join("\n")}\n`);
    mkdirSync(dirname(o.out), { recursive: true });
    renameSync(tmp, o.out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return voc ? join(o.out, "VOC2012") : o.out;
}
