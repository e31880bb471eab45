// CUB-200-2011 with the official split: images.txt ("<id> <class dir>/<file>"),
// image_class_labels.txt ("<id> <class 1..200>"), train_test_split.txt ("<id> <1=train>"),
// classes.txt ("<class 1..200> <name>"), images under images/. Or, when the data was
// arranged as root/{train,test}/<class>/<image>, an ImageFolder.
import { join } from "node:path";
import { Dataset } from "./dataset.js";
import { exists, isDir, lines, readText } from "./files.js";
import { imageFolder } from "./imageFolder.js";

/** CUB-200-2011 with its official train/test split. */
export async function cub200(root: string, split: "train" | "test"): Promise<Dataset> {
  const base = (await exists(join(root, "CUB_200_2011", "images.txt")))
    ? join(root, "CUB_200_2011")
    : root;
  if (!(await exists(join(base, "images.txt"))) && (await isDir(join(root, split)))) {
    return imageFolder(join(root, split), { name: `CUB-200 ImageFolder ${split} (${root})` });
  }
  const what = `CUB-200-2011(${base})`;
  const table = async (file: string): Promise<Map<string, string>> => {
    const m = new Map<string, string>();
    for (const l of lines(await readText(join(base, file), what))) {
      const sp = l.indexOf(" ");
      if (sp < 0) throw new Error(`${what}: malformed line in ${join(base, file)}: "${l}"`);
      m.set(l.slice(0, sp), l.slice(sp + 1).trim());
    }
    return m;
  };
  const images = await table("images.txt");
  const cls = await table("image_class_labels.txt");
  const isTrain = await table("train_test_split.txt");
  const names = await table("classes.txt");
  const classes = [...names.entries()]
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, n]) => n);
  const paths: string[] = [];
  const labels: number[] = [];
  const ids = [...images.keys()].sort((a, b) => Number(a) - Number(b));
  for (const id of ids) {
    const t = isTrain.get(id);
    const c = cls.get(id);
    if (t === undefined || c === undefined)
      throw new Error(`${what}: image id ${id} missing from the split or label file`);
    if ((t === "1") !== (split === "train")) continue;
    const label = Number(c) - 1;
    if (!(label >= 0 && label < classes.length))
      throw new Error(`${what}: image id ${id} has class ${c} outside 1..${classes.length}`);
    paths.push(join(base, "images", images.get(id)!));
    labels.push(label);
  }
  return new Dataset({
    name: `${what} ${split}`,
    classes,
    labels: Int32Array.from(labels),
    source: { kind: "files", paths },
  });
}
