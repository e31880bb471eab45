// The ImageNet subset of docs/method.md#pipeline: `perClass` images drawn from every class
// of train/ (128 × 1000 = 10% of ImageNet-1K), class-balanced, deterministic given the
// seed. Files are hard-linked (copied when linking is impossible, e.g. across
// filesystems); val/ is carried along whole so the subset is a complete ImageNet root.
// The seed and the chosen files are recorded in dst/kdep-subset.json.
import { copyFile, link, mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Rng, STREAM_SUBSET } from "../rng.js";
import { exists, isDir } from "./files.js";
import { findClasses, walkImages } from "./imageFolder.js";

/** Options of {@link makeSubset} (`kdep subset`). */
export interface SubsetOptions {
  src: string;
  dst: string;
  perClass?: number;
  seed: number;
  /** Progress / seed messages; default console.log. */
  log?: (msg: string) => void;
}

/** The record `kdep subset` writes as `kdep-subset.json`: seed, counts and the files chosen. */
export interface SubsetManifest {
  kind: "kdep-imagenet-subset";
  version: 1;
  seed: number;
  perClass: number;
  src: string;
  classes: number;
  trainImages: number;
  valImages: number;
  linked: number;
  copied: number;
  /** class → chosen train files (relative to train/<class>/), sorted. */
  files: Record<string, string[]>;
}

export const MANIFEST_NAME = "kdep-subset.json";

/** `kdep subset`: a class-balanced, seeded subset of an ImageNet-style tree, made of hard links. */
export async function makeSubset(o: SubsetOptions): Promise<SubsetManifest> {
  const perClass = o.perClass ?? 128;
  const log = o.log ?? console.log;
  if (!Number.isInteger(perClass) || perClass < 1)
    throw new RangeError(`Expected a positive integer for perClass but received ${perClass}`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0)
    throw new RangeError(`Expected a non-negative integer seed but received ${o.seed}`);
  const trainSrc = join(o.src, "train");
  if (!(await isDir(trainSrc)))
    throw new Error(
      `subset: ${trainSrc} is not a directory (expected an ImageNet root with train/ and val/)`,
    );
  log(`subset: seed ${o.seed}, ${perClass} images per class, ${o.src} -> ${o.dst}`);
  const classes = await findClasses(trainSrc, "subset");
  if (classes.length === 0) throw new Error(`subset: no class directories in ${trainSrc}`);
  const stats = { linked: 0, copied: 0 };
  const files: Record<string, string[]> = {};
  let trainImages = 0;
  for (let c = 0; c < classes.length; c++) {
    const dir = join(trainSrc, classes[c]);
    const all = await walkImages(dir, "subset");
    if (all.length < perClass) {
      throw new Error(
        `subset: class ${classes[c]} has ${all.length} images, fewer than --per-class ${perClass}`,
      );
    }
    // Keyed by the class *name*, so the draw for a class does not depend on which
    // other classes are present.
    const perm = new Rng(o.seed, STREAM_SUBSET, nameKey(classes[c])).permutation(all.length);
    const chosen = Array.from(perm.subarray(0, perClass), (i) => all[i]).sort();
    files[classes[c]] = chosen.map((f) => relative(dir, f));
    for (const f of chosen)
      await place(f, join(o.dst, "train", classes[c], relative(dir, f)), stats);
    trainImages += chosen.length;
    if ((c + 1) % 100 === 0) log(`subset: ${c + 1}/${classes.length} classes`);
  }
  let valImages = 0;
  const valSrc = join(o.src, "val");
  if (await isDir(valSrc)) {
    for (const f of await walkImages(valSrc, "subset")) {
      await place(f, join(o.dst, "val", relative(valSrc, f)), stats);
      valImages++;
    }
  } else log(`subset: warning: ${valSrc} not found, the subset has no val/`);
  const manifest: SubsetManifest = {
    kind: "kdep-imagenet-subset",
    version: 1,
    seed: o.seed,
    perClass,
    src: o.src,
    classes: classes.length,
    trainImages,
    valImages,
    ...stats,
    files,
  };
  await writeFile(join(o.dst, MANIFEST_NAME), `${JSON.stringify(manifest, null, 1)}\n`);
  log(
    `subset: ${trainImages} train + ${valImages} val images (${stats.linked} linked, ${stats.copied} copied), seed ${o.seed} recorded in ${join(o.dst, MANIFEST_NAME)}`,
  );
  return manifest;
}

async function place(
  from: string,
  to: string,
  stats: { linked: number; copied: number },
): Promise<void> {
  await mkdir(join(to, ".."), { recursive: true });
  if (await exists(to)) return; // re-running into the same dst is a no-op
  try {
    await link(from, to);
    stats.linked++;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP") throw err;
    await copyFile(from, to);
    stats.copied++;
  }
}

/** A stable integer key for a class name (FNV-1a). */
function nameKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
