// Subsets of a dataset: chosen samples, optionally only some classes (relabelled 0..k−1),
// and a seeded class-balanced draw of n per class — used for upstream/downstream splits and
// low-data regimes.
import { Rng } from "../rng.js";
import { Dataset, type DatasetSpec, toShared } from "./dataset.js";

/** Samples `indices` of `ds`, in that order. */
export function subsetByIndex(ds: Dataset, indices: ArrayLike<number>, name?: string): Dataset {
  const spec = ds.spec;
  const n = indices.length;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = spec.labels[indices[i]];
  let source: DatasetSpec["source"];
  if (spec.source.kind === "files") {
    const paths = spec.source.paths;
    source = { kind: "files", paths: Array.from({ length: n }, (_, i) => paths[indices[i]]) };
  } else {
    const s = spec.source;
    const size = s.width * s.height * s.channels;
    const data = new Uint8Array(n * size);
    for (let i = 0; i < n; i++)
      data.set(s.data.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
    source = { ...s, data: toShared(data) };
  }
  const masks = spec.masks
    ? Array.from({ length: n }, (_, i) => spec.masks![indices[i]])
    : undefined;
  return new Dataset({ ...spec, name: name ?? `${spec.name}[subset]`, labels, source, masks });
}

/** Only the samples of `classes` (names), relabelled to their position in that list. */
export function subsetByClasses(ds: Dataset, classes: string[], name?: string): Dataset {
  const map = new Map<number, number>();
  classes.forEach((c, i) => {
    const k = ds.classes.indexOf(c);
    if (k < 0)
      throw new Error(`${ds.spec.name}: no class "${c}" (classes: ${ds.classes.join(", ")})`);
    map.set(k, i);
  });
  const idx: number[] = [];
  ds.spec.labels.forEach((l, i) => {
    if (map.has(l)) idx.push(i);
  });
  const sub = subsetByIndex(ds, idx, name);
  const labels = sub.spec.labels.map((l) => map.get(l)!);
  return new Dataset({ ...sub.spec, classes, labels });
}

/**
 * A class-balanced random subset: `perClass` samples of each class (all of a class that
 * has fewer), drawn with a seeded generator, kept in dataset order.
 */
export function balancedSubset(
  ds: Dataset,
  perClass: number,
  seed: number,
  name?: string,
): Dataset {
  const byClass: number[][] = ds.classes.map(() => []);
  ds.spec.labels.forEach((l, i) => {
    if (l >= 0) byClass[l].push(i);
  });
  const rng = new Rng(seed, 0, 0);
  const chosen: number[] = [];
  for (const list of byClass) {
    // Partial Fisher–Yates: the first perClass entries become a uniform sample.
    const a = list.slice();
    const k = Math.min(perClass, a.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng.random() * (a.length - i));
      [a[i], a[j]] = [a[j], a[i]];
    }
    chosen.push(...a.slice(0, k));
  }
  chosen.sort((x, y) => x - y);
  return subsetByIndex(ds, chosen, name ?? `${ds.spec.name}[${perClass}/class]`);
}
