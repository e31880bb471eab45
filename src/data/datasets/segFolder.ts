// A user's own segmentation data ("folder" layout):
//
//   root/classes.txt            one class name per line; class i = line i (0-based)
//   root/images/<name>.<ext>    RGB (or grey) images, any format the loader decodes
//   root/masks/<name>.png       one-channel PNG, values 0..classes-1, 255 = ignore
//   root/train.txt, val.txt     one <name> per line (with or without extension)
//     — or, without lists —     images/train/, images/val/, masks/train/, masks/val/
//
// Everything is checked before training starts, naming the file at fault: a listed name
// without its image or mask, an empty split, a mask whose size differs from its image, a
// mask value ≥ the number of classes that is not 255.
import { basename, extname, join } from "node:path";
import sharp from "sharp";
import { readMaskPng } from "../png.js";
import { Dataset } from "./dataset.js";
import { exists, isDir, isImageFile, lines, listDir, readText, sortCodepoint } from "./files.js";

export async function readClassList(path: string, what: string): Promise<string[]> {
  const names = lines(await readText(path, what));
  if (names.length === 0) throw new Error(`${what}: ${path} lists no classes`);
  if (names.length > 255)
    throw new Error(`${what}: ${path} lists ${names.length} classes; at most 255 (255 = ignore)`);
  return names;
}

/** The image file of `name` in dir: the name itself, or the name plus an image extension. */
async function findImage(dir: string, name: string): Promise<string | null> {
  if (extname(name) && isImageFile(name) && (await exists(join(dir, name)))) return join(dir, name);
  for (const ext of [".png", ".jpg", ".jpeg", ".webp", ".JPG", ".PNG"]) {
    if (await exists(join(dir, `${name}${ext}`))) return join(dir, `${name}${ext}`);
  }
  return null;
}

const stem = (f: string) => (isImageFile(f) ? basename(f, extname(f)) : f);

async function fromList(root: string, split: string, what: string) {
  const list = join(root, `${split}.txt`);
  const names = lines(await readText(list, what));
  if (names.length === 0) throw new Error(`${what}: split "${split}" is empty (${list})`);
  const images: string[] = [];
  const masks: string[] = [];
  for (const [i, name] of names.entries()) {
    const img = await findImage(join(root, "images"), name);
    if (!img)
      throw new Error(
        `${what}: ${list} line ${i + 1} names "${name}", but images/ has no such image`,
      );
    const mask = join(root, "masks", `${stem(name)}.png`);
    if (!(await exists(mask)))
      throw new Error(`${what}: ${list} line ${i + 1} names "${name}", but ${mask} is missing`);
    images.push(img);
    masks.push(mask);
  }
  return { images, masks };
}

async function fromDirs(root: string, split: string, what: string) {
  const imgDir = join(root, "images", split);
  if (!(await isDir(imgDir))) {
    throw new Error(`${what}: neither ${join(root, `${split}.txt`)} nor ${imgDir}/ exists`);
  }
  const files = sortCodepoint((await listDir(imgDir, what)).filter(isImageFile));
  if (files.length === 0) throw new Error(`${what}: split "${split}" is empty (${imgDir})`);
  const images = files.map((f) => join(imgDir, f));
  const masks = files.map((f) => join(root, "masks", split, `${stem(f)}.png`));
  for (const [i, m] of masks.entries())
    if (!(await exists(m))) throw new Error(`${what}: ${images[i]} has no mask ${m}`);
  return { images, masks };
}

/** Reads every mask and image header; throws naming the first bad file. */
export async function checkSegFiles(
  images: string[],
  masks: string[],
  numClasses: number,
  what: string,
): Promise<void> {
  for (let i = 0; i < images.length; i++) {
    const mask = await readMaskPng(masks[i]);
    const meta = await sharp(images[i])
      .metadata()
      .catch((e: Error) => {
        throw new Error(`${what}: cannot read image ${images[i]} (${e.message})`);
      });
    if (meta.width !== mask.width || meta.height !== mask.height) {
      throw new Error(
        `${what}: mask ${masks[i]} is ${mask.width}x${mask.height}, but its image ${images[i]} is ${meta.width}x${meta.height}`,
      );
    }
    const d = mask.data;
    for (let k = 0; k < d.length; k++) {
      if (d[k] >= numClasses && d[k] !== 255) {
        throw new Error(
          `${what}: mask ${masks[i]} has value ${d[k]} at (x ${k % mask.width}, y ${Math.floor(k / mask.width)}); ` +
            `expected 0..${numClasses - 1} (classes.txt) or 255 (ignore)`,
        );
      }
    }
  }
}

/** One split of a folder-layout segmentation dataset, checked file by file. */
export async function segFolder(
  root: string,
  split: "train" | "val",
  o: { check?: boolean } = {},
): Promise<Dataset> {
  const what = `segmentation folder ${root}`;
  const classes = await readClassList(join(root, "classes.txt"), what);
  const { images, masks } = (await exists(join(root, `${split}.txt`)))
    ? await fromList(root, split, what)
    : await fromDirs(root, split, what);
  if (o.check ?? true) await checkSegFiles(images, masks, classes.length, what);
  return new Dataset({
    name: `${what} ${split}`,
    classes,
    labels: new Int32Array(images.length).fill(-1),
    source: { kind: "files", paths: images },
    masks,
  });
}
