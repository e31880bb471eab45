// Segmentation metrics from one confusion matrix accumulated over the whole val set (as
// semseg sums intersections and unions before dividing): per-class IoU = I / (U + 1e-10),
// mIoU = their mean over ALL classes (a class absent from both truth and prediction counts
// 0, as the reference; `mIoUPresent` averages only classes that occur), pixel accuracy =
// ΣI / Σ(labelled pixels), mean class accuracy = mean of I / (target + 1e-10).
// Pixels labelled `ignore` (255) are left out of everything.
import type { Tensor } from "../../tensor/index.js";

export interface SegMetrics {
  mIoU: number;
  mIoUPresent: number;
  pixelAcc: number;
  meanAcc: number;
  iou: number[];
  acc: number[];
  /** Labelled pixels per class (truth). */
  support: number[];
}

export class ConfusionMatrix {
  /** rows: truth, columns: prediction; exact integer counts (< 2^53). */
  readonly counts: Float64Array;
  constructor(
    readonly numClasses: number,
    readonly ignore = 255,
  ) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds predictions and truth given as typed arrays of the same length. */
  addArrays(pred: ArrayLike<number>, truth: ArrayLike<number>, where = "target"): void {
    if (pred.length !== truth.length) {
      throw new Error(
        `Confusion matrix: ${pred.length} predictions for ${truth.length} labels (${where})`,
      );
    }
    const C = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      if (t === this.ignore) continue;
      if (t < 0 || t >= C) {
        throw new Error(
          `${where}: label ${t} at pixel ${i} is outside 0..${C - 1} and not the ignore label ${this.ignore}`,
        );
      }
      const p = pred[i];
      if (p < 0 || p >= C) throw new Error(`prediction ${p} outside 0..${C - 1}`);
      this.counts[t * C + p]++;
    }
  }

  /** Adds integer tensors of the same shape (predictions, truth). */
  add(pred: Tensor, truth: Tensor, where?: string): void {
    const p = pred.to({ dtype: "int32", device: "cpu" });
    const t = truth.to({ dtype: "int32", device: "cpu" });
    this.addArrays(p.toTypedArray() as Int32Array, t.toTypedArray() as Int32Array, where);
    p.dispose();
    t.dispose();
  }

  metrics(): SegMetrics {
    const C = this.numClasses;
    const iou: number[] = [];
    const acc: number[] = [];
    const support: number[] = [];
    let inter = 0;
    let total = 0;
    for (let c = 0; c < C; c++) {
      let rows = 0;
      let cols = 0;
      for (let k = 0; k < C; k++) {
        rows += this.counts[c * C + k];
        cols += this.counts[k * C + c];
      }
      const i = this.counts[c * C + c];
      iou.push(i / (rows + cols - i + 1e-10));
      acc.push(i / (rows + 1e-10));
      support.push(rows);
      inter += i;
      total += rows;
    }
    const present = iou.filter((_, c) => support[c] > 0 || this.#predicted(c));
    return {
      mIoU: mean(iou),
      mIoUPresent: present.length ? mean(present) : 0,
      pixelAcc: inter / (total + 1e-10),
      meanAcc: mean(acc),
      iou,
      acc,
      support,
    };
  }

  #predicted(c: number): boolean {
    for (let k = 0; k < this.numClasses; k++)
      if (this.counts[k * this.numClasses + c] > 0) return true;
    return false;
  }

  /** CSV with a header row of predicted class names and one row per true class. */
  toCsv(names: string[]): string {
    const C = this.numClasses;
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = [["truth \\ prediction", ...names.map(q)].join(",")];
    for (let r = 0; r < C; r++) {
      lines.push([q(names[r]), ...Array.from(this.counts.subarray(r * C, (r + 1) * C))].join(","));
    }
    return `${lines.join("\n")}\n`;
  }

  merge(other: ConfusionMatrix): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }
}

/** Sequential mean (the order the tests' reference uses). */
function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** A Markdown table of per-class IoU, accuracy and support, then the means. */
export function perClassTable(names: string[], m: SegMetrics): string {
  const pct = (v: number) => (100 * v).toFixed(2);
  const rows = names.map(
    (n, c) => `| ${c} | ${n} | ${pct(m.iou[c])} | ${pct(m.acc[c])} | ${m.support[c]} |`,
  );
  return [
    "| # | class | IoU % | acc % | pixels |",
    "|---:|---|---:|---:|---:|",
    ...rows,
    "",
    `mIoU ${pct(m.mIoU)} · mIoU (present classes) ${pct(m.mIoUPresent)} · pixel accuracy ${pct(m.pixelAcc)} · mean accuracy ${pct(m.meanAcc)}`,
    "",
  ].join("\n");
}
