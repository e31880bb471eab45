// Caltech-256: 256_ObjectCategories/<NNN.name>/<NNN_XXXX>.jpg, 257 categories including
// 257.clutter. docs/method.md#classification-transfer: categories sorted; in each, the first 60
// images by file index (the XXXX) are train, the rest test.
import { join } from "node:path";
import { Dataset } from "./dataset.js";
import { exists, isImageFile, listDir } from "./files.js";
import { findClasses } from "./imageFolder.js";

export const CALTECH_TRAIN_PER_CLASS = 60;

/**
 * Caltech-256 (257 classes with clutter): the first 60 images of each class by file number for
 * train, the rest for test.
 */
export async function caltech256(
  root: string,
  split: "train" | "test",
  trainPerClass = CALTECH_TRAIN_PER_CLASS,
): Promise<Dataset> {
  const base = (await exists(join(root, "256_ObjectCategories")))
    ? join(root, "256_ObjectCategories")
    : root;
  const what = `Caltech-256(${base})`;
  const classes = await findClasses(base, what);
  if (classes.length === 0) throw new Error(`${what}: no category directories`);
  const paths: string[] = [];
  const labels: number[] = [];
  for (let c = 0; c < classes.length; c++) {
    const dir = join(base, classes[c]);
    // Only the category's own files (the archive has a stray sub-folder, 056.dog/greg).
    const files = (await listDir(dir, what)).filter(isImageFile);
    const indexed = files.map((f) => ({ f, i: fileIndex(f) }));
    indexed.sort((a, b) => a.i - b.i || (a.f < b.f ? -1 : a.f > b.f ? 1 : 0));
    if (indexed.length <= trainPerClass && split === "test") continue;
    const part = split === "train" ? indexed.slice(0, trainPerClass) : indexed.slice(trainPerClass);
    for (const { f } of part) {
      paths.push(join(dir, f));
      labels.push(c);
    }
  }
  return new Dataset({
    name: `${what} ${split}`,
    classes,
    labels: Int32Array.from(labels),
    source: { kind: "files", paths },
  });
}

/** "001_0042.jpg" → 42; files without an index sort last. */
function fileIndex(name: string): number {
  const m = /_(\d+)\.[^.]+$/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}
