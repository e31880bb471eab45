// DTD (Describable Textures): dtd/images/<class>/<file>.jpg with split lists
// dtd/labels/{train,val,test}N.txt ("banded/banded_0002.jpg" per line), N = 1..10.
// docs/method.md#classification-transfer: split 1, train = train1 + val1, test = test1, 47 classes.
import { join } from "node:path";
import { Dataset } from "./dataset.js";
import { exists, lines, readText } from "./files.js";
import { findClasses } from "./imageFolder.js";

/**
 * The Describable Textures Dataset: split k's train (train k + val k) or test images, 47 classes.
 */
export async function dtd(
  root: string,
  split: "train" | "val" | "test" | "trainval",
  n = 1,
): Promise<Dataset> {
  const base = (await exists(join(root, "dtd", "labels"))) ? join(root, "dtd") : root;
  const what = `DTD(${base})`;
  const classes = await findClasses(join(base, "images"), what);
  if (classes.length === 0)
    throw new Error(`${what}: no class directories in ${join(base, "images")}`);
  // "train" follows the paper: the official train and val lists together.
  const lists = split === "train" || split === "trainval" ? ["train", "val"] : [split];
  const index = new Map(classes.map((c, i) => [c, i]));
  const paths: string[] = [];
  const labels: number[] = [];
  for (const l of lists) {
    const file = join(base, "labels", `${l}${n}.txt`);
    for (const rel of lines(await readText(file, what))) {
      const cls = rel.split("/")[0];
      const c = index.get(cls);
      if (c === undefined)
        throw new Error(`${what}: ${file} names unknown class "${cls}" (${rel})`);
      paths.push(join(base, "images", rel));
      labels.push(c);
    }
  }
  return new Dataset({
    name: `${what} ${split}${n}`,
    classes,
    labels: Int32Array.from(labels),
    source: { kind: "files", paths },
  });
}
