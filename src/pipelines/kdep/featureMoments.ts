// Streaming first and second moments of teacher features, in float64: Σx (d) and XᵀX (d×d)
// grow as batches arrive, so the SVD pass needs O(d²) memory instead of keeping every
// feature (N·d floats: 1 GB for 128k ImageNet images at d = 2048). The right singular
// vectors of the centred X are the eigenvectors of the centred scatter XᵀX − N·μμᵀ.
import { eigh, keep, noGrad, type Tensor, tidy, zeros } from "../../tensor/index.js";

export interface SvdResult {
  /** d×d, columns = principal directions by descending singular value. */
  V: Tensor;
  /** d, column mean of the features. */
  mean: Tensor;
  /** d, singular values of the centred feature matrix. */
  singularValues: Tensor;
  count: number;
}

export class FeatureMoments {
  count = 0;
  readonly sum: Tensor;
  readonly scatter: Tensor;

  constructor(readonly dim: number) {
    this.sum = keep(zeros([dim], { dtype: "float64" }));
    this.scatter = keep(zeros([dim, dim], { dtype: "float64" }));
  }

  /** Adds a batch of features [B, d] (any float dtype). */
  add(features: Tensor): void {
    if (features.ndim !== 2 || features.size(1) !== this.dim) {
      throw new Error(
        `Expected features of shape [B, ${this.dim}] but received [${features.shape}]`,
      );
    }
    tidy(() =>
      noGrad(() => {
        const x = features.to("float64");
        this.sum.add_(x.sum(0));
        this.scatter.add_(x.t().matmul(x));
      }),
    );
    this.count += features.size(0);
  }

  /** Restores accumulators saved from `sum`, `scatter` and `count` (resuming a pass). */
  restore(sum: Tensor, scatter: Tensor, count: number): void {
    noGrad(() => {
      this.sum.copy_(sum);
      this.scatter.copy_(scatter);
    });
    this.count = count;
  }

  finalize(): SvdResult {
    if (this.count < 2) throw new Error(`The SVD needs at least 2 features, got ${this.count}`);
    // Each d×d temporary (32 MiB at d = 2048) is freed as soon as the next exists, not at the
    // end of the scope: this step, not the teacher pass, set the SVD pass's peak memory.
    const step = (t: Tensor, next: (t: Tensor) => Tensor): Tensor => {
      const out = next(t);
      t.dispose();
      return out;
    };
    return tidy(() => {
      const mean = this.sum.div(this.count);
      const outer = mean.unsqueeze(1).matmul(mean.unsqueeze(0));
      const centred = step(outer, (o) => this.scatter.sub(o, this.count));
      // Symmetrise away rounding before the eigen-solver.
      const sym = step(centred, (c) => c.add(c.t())).div_(2);
      const { eigenvalues, eigenvectors } = eigh(sym);
      sym.dispose();
      const order = eigenvalues.flip(0);
      return {
        V: step(eigenvectors, (e) => e.flip(1).contiguous()),
        mean,
        singularValues: order.clamp(0, null).sqrt(),
        count: this.count,
      };
    });
  }

  dispose(): void {
    this.sum.dispose();
    this.scatter.dispose();
  }
}
