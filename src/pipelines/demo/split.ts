// The demo's class split: which Fashion-MNIST classes pre-train (upstream) and which are
// held out for transfer (downstream), given as class indices 0–9 and checked before any
// work starts.
import { FASHION_MNIST_CLASSES } from "../../data/datasets/idx.js";

/** Fashion-MNIST class indices (0–9): pre-training classes and disjoint held-out ones. */
export interface DemoSplit {
  /** Classes the teacher and the students pre-train on. */
  upstream: number[];
  /** Classes held out for transfer, never seen upstream. */
  downstream: number[];
}

/** Clothes upstream (T-shirt/top, Trouser, Pullover, Dress, Coat, Shirt); shoes and bags held out. */
export const DEFAULT_SPLIT: DemoSplit = { upstream: [0, 1, 2, 3, 4, 6], downstream: [5, 7, 8, 9] };

/** "0,1,2" → [0, 1, 2]; a one-line error naming the flag for anything else. */
export function parseClassList(text: string, flag: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length === 1 && parts[0] === "")
    throw new Error(`${flag}: no classes given (expected e.g. 0,1,2)`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new Error(`${flag}: "${p}" is not a class index (0–9)`);
    return Number(p);
  });
}

/** Throws a one-line error unless both lists are non-empty, within 0–9, without repeats and disjoint. */
export function validateSplit(split: DemoSplit): DemoSplit {
  const n = FASHION_MNIST_CLASSES.length;
  for (const [flag, list] of [
    ["--upstream", split.upstream],
    ["--downstream", split.downstream],
  ] as const) {
    if (list.length === 0) throw new Error(`${flag}: no classes given`);
    for (const c of list) {
      if (!Number.isInteger(c) || c < 0 || c >= n)
        throw new Error(`${flag}: class ${c} is outside 0–${n - 1}`);
    }
    const dup = list.find((c, i) => list.indexOf(c) !== i);
    if (dup !== undefined) throw new Error(`${flag}: class ${dup} is listed twice`);
  }
  const shared = split.upstream.filter((c) => split.downstream.includes(c));
  if (shared.length)
    throw new Error(
      `--upstream and --downstream share ${shared.map((c) => `${c} (${FASHION_MNIST_CLASSES[c]})`).join(", ")}: the downstream classes must be unseen upstream`,
    );
  return split;
}

export const classNames = (list: number[]): string[] => list.map((c) => FASHION_MNIST_CLASSES[c]);

/** "upstream 0,1,2,3,4,6 / downstream 5,7,8,9": how the report and logs name a split. */
export const splitName = (s: DemoSplit): string =>
  `upstream ${s.upstream.join(",")} / downstream ${s.downstream.join(",")}`;
