// torchvision.datasets.ImageFolder: root/<class>/**/<image>.
// Classes are the sorted sub-directory names; files are walked recursively in sorted
// order, exactly like torchvision's make_dataset, so sample i is the same image here and
// there.
import { join } from "node:path";
import { Dataset } from "./dataset.js";
import { isDir, isImageFile, listDir, sortCodepoint } from "./files.js";

/** Options of {@link imageFolder}. */
export interface ImageFolderOptions {
  /** Use these class names (and their order) instead of the sub-directories found. */
  classes?: string[];
  name?: string;
}

/**
 * A dataset of `root/<class>/*.{jpg,png,webp}` (torchvision's ImageFolder: classes sorted, files
 * walked recursively).
 */
export async function imageFolder(root: string, opts: ImageFolderOptions = {}): Promise<Dataset> {
  const what = opts.name ?? `ImageFolder(${root})`;
  const classes = opts.classes ?? (await findClasses(root, what));
  if (classes.length === 0) throw new Error(`${what}: no class directories in ${root}`);
  const paths: string[] = [];
  const labels: number[] = [];
  const empty: string[] = [];
  for (let c = 0; c < classes.length; c++) {
    const dir = join(root, classes[c]);
    if (!(await isDir(dir))) throw new Error(`${what}: missing class directory ${dir}`);
    const files = await walkImages(dir, what);
    if (files.length === 0) empty.push(classes[c]);
    for (const f of files) {
      paths.push(f);
      labels.push(c);
    }
  }
  if (empty.length > 0) {
    throw new Error(
      `${what}: no .jpg/.jpeg/.png/.webp image for class(es) ${empty.slice(0, 5).join(", ")}`,
    );
  }
  return new Dataset({
    name: what,
    classes,
    labels: Int32Array.from(labels),
    source: { kind: "files", paths },
  });
}

export async function findClasses(root: string, what: string): Promise<string[]> {
  const names = await listDir(root, what);
  const dirs: string[] = [];
  for (const n of names) if (await isDir(join(root, n))) dirs.push(n);
  return sortCodepoint(dirs);
}

/** Image files under dir, recursively, in the order of `sorted(os.walk(dir))` + sorted names. */
export async function walkImages(dir: string, what: string): Promise<string[]> {
  const perDir = new Map<string, string[]>();
  const visit = async (d: string): Promise<void> => {
    const files: string[] = [];
    for (const n of await listDir(d, what)) {
      const p = join(d, n);
      if (await isDir(p)) await visit(p);
      else if (isImageFile(n)) files.push(p);
    }
    perDir.set(d, sortCodepoint(files));
  };
  await visit(dir);
  // Python sorts the directory paths as whole strings ("a/b-x" < "a/b/c").
  return sortCodepoint([...perDir.keys()]).flatMap((d) => perDir.get(d)!);
}

/** ImageNet as people keep it: root/train/<wnid>/*.JPEG and root/val/<wnid>/*.JPEG. */
export async function imageNet(root: string): Promise<{ train: Dataset; val: Dataset }> {
  const train = await imageFolder(join(root, "train"), { name: `ImageNet train (${root})` });
  const val = await imageFolder(join(root, "val"), {
    classes: train.classes,
    name: `ImageNet val (${root})`,
  });
  return { train, val };
}
