// Classification metrics over a whole evaluation set: top-1, top-5 and the mean of
// per-class accuracies (what fine-grained benchmarks such as CUB are sometimes reported in).
import { noGrad, type Tensor, tidy } from "../../tensor/index.js";

export class ClassificationMeter {
  readonly #correct: Float64Array;
  readonly #count: Float64Array;
  #top1 = 0;
  #top5 = 0;
  #n = 0;
  constructor(readonly numClasses: number) {
    this.#correct = new Float64Array(numClasses);
    this.#count = new Float64Array(numClasses);
  }

  add(logits: Tensor, labels: Tensor): void {
    const k = Math.min(5, this.numClasses);
    const [top, y] = tidy(() =>
      noGrad(() => [logits.topk(k, 1)[1].toArray(), labels.toArray()] as const),
    );
    const n = y.length;
    for (let i = 0; i < n; i++) {
      const label = y[i];
      const row = top.slice(i * k, (i + 1) * k);
      this.#count[label]++;
      if (row[0] === label) {
        this.#top1++;
        this.#correct[label]++;
      }
      if (row.includes(label)) this.#top5++;
    }
    this.#n += n;
  }

  /** Images counted so far. */
  get count(): number {
    return this.#n;
  }

  /**
   * Replaces the tallies by `sum` of them (e.g. over data-parallel ranks, each of which counted
   * its own shard): the result is then the whole set's.
   */
  reduce(sum: (totals: Float64Array) => Float64Array): void {
    const C = this.numClasses;
    const packed = new Float64Array(3 + 2 * C);
    packed.set([this.#top1, this.#top5, this.#n]);
    packed.set(this.#correct, 3);
    packed.set(this.#count, 3 + C);
    const all = sum(packed);
    [this.#top1, this.#top5, this.#n] = [all[0], all[1], all[2]];
    this.#correct.set(all.subarray(3, 3 + C));
    this.#count.set(all.subarray(3 + C));
  }

  result(): { top1: number; top5: number; meanPerClass: number; count: number } {
    let sum = 0;
    let classes = 0;
    for (let c = 0; c < this.numClasses; c++) {
      if (this.#count[c] > 0) {
        sum += this.#correct[c] / this.#count[c];
        classes++;
      }
    }
    const n = Math.max(1, this.#n);
    return {
      top1: (100 * this.#top1) / n,
      top5: (100 * this.#top5) / n,
      meanPerClass: (100 * sum) / Math.max(1, classes),
      count: this.#n,
    };
  }
}
