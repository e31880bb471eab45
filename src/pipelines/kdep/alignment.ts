// How a student feature is compared with the teacher: small interchangeable pieces behind
// one interface (as mdistiller's distillers). Each returns named losses; the trainer sums
// them and logs each one.
import { BatchNorm1d, F, Linear, Module } from "../../nn/index.js";
import { noGrad, type Tensor } from "../../tensor/index.js";
import { type PtsOptions, pts } from "./pts.js";

export type AlignMethod = "svd" | "linear" | "none" | "logits";

export interface TeacherOut {
  /** Pooled pre-ReLU feature [B, d_t]. */
  feature: Tensor;
  /** Logits [B, C], only when the method needs them. */
  logits?: Tensor;
  /** SVD-projected target before PTS [B, k], read from a target cache (no teacher run). */
  projected?: Tensor;
}

export interface StudentOut {
  feature: Tensor;
  logits?: Tensor;
}

export interface Alignment extends Module {
  readonly method: AlignMethod;
  /** Named loss terms (already weighted). */
  losses(student: StudentOut, teacher: TeacherOut): Record<string, Tensor>;
  /** The target the student feature is compared with, for validation (no grad). */
  target?(teacher: TeacherOut): Tensor;
}

export interface SvdBasis {
  V: Tensor;
  mean: Tensor;
}

/** KDEP's non-parametric alignment: z = (f_T − μ)·V[:, :k], then PTS; plain MSE.
 * A cached z (TeacherOut.projected) skips the projection; the basis then only sets k. */
export class SvdAlignment extends Module implements Alignment {
  readonly method = "svd";
  readonly #Vk: Tensor | null = null;
  readonly #mean: Tensor | null = null;
  /** `basis` null: targets come projected from a cache (TeacherOut.projected). */
  constructor(
    basis: SvdBasis | null,
    readonly studentDim: number,
    readonly lossWeight: number,
    readonly ptsOptions: PtsOptions | null,
  ) {
    super();
    if (!basis) return;
    const [dt, cols] = basis.V.shape;
    if (basis.mean.numel !== dt) {
      throw new Error(`SVD mean has ${basis.mean.numel} entries but V is ${dt}×${cols}`);
    }
    if (studentDim > cols) {
      throw new Error(`The student feature has ${studentDim} dims but the SVD basis only ${cols}`);
    }
    // Non-persistent buffers: part of the loss, not of the student checkpoint.
    this.#Vk = this.registerBuffer(
      "Vk",
      basis.V.narrow(1, 0, studentDim).float().contiguous(),
      false,
    );
    this.#mean = this.registerBuffer("mean", basis.mean.float().reshape(1, dt), false);
  }
  target(t: TeacherOut): Tensor {
    return noGrad(() => {
      const z = t.projected ?? this.#project(t.feature);
      if (z.size(1) !== this.studentDim)
        throw new Error(`Cached targets have ${z.size(1)} dims; the student ${this.studentDim}`);
      return this.ptsOptions ? pts(z, this.ptsOptions) : z;
    });
  }
  #project(feature: Tensor): Tensor {
    if (!this.#Vk || !this.#mean) throw new Error("No SVD basis: pass cached targets");
    return feature.sub(this.#mean).matmul(this.#Vk);
  }
  losses(s: StudentOut, t: TeacherOut): Record<string, Tensor> {
    return { feature: F.mseLoss(s.feature, this.target(t)).mul(this.lossWeight) };
  }
}

/** The parametric baseline: Linear(d_s→d_t) + BatchNorm1d on the student side, trained with
 * the student and dropped afterwards. */
export class LinearAlignment extends Module implements Alignment {
  readonly method = "linear";
  readonly proj: Linear;
  readonly bn: BatchNorm1d;
  constructor(
    studentDim: number,
    teacherDim: number,
    readonly lossWeight: number,
    readonly ptsOptions: PtsOptions | null,
  ) {
    super();
    this.proj = this.registerModule("proj", new Linear(studentDim, teacherDim));
    this.bn = this.registerModule("bn", new BatchNorm1d(teacherDim));
  }
  target(t: TeacherOut): Tensor {
    return noGrad(() => (this.ptsOptions ? pts(t.feature, this.ptsOptions) : t.feature.detach()));
  }
  losses(s: StudentOut, t: TeacherOut): Record<string, Tensor> {
    const p = this.bn.forward(this.proj.forward(s.feature));
    return { feature: F.mseLoss(p, this.target(t)).mul(this.lossWeight) };
  }
}

/** Direct feature matching when the dims agree (e.g. ResNet-50 → ResNet-50). */
export class IdentityAlignment extends Module implements Alignment {
  readonly method = "none";
  constructor(
    readonly lossWeight: number,
    readonly ptsOptions: PtsOptions | null,
  ) {
    super();
  }
  target(t: TeacherOut): Tensor {
    return noGrad(() => (this.ptsOptions ? pts(t.feature, this.ptsOptions) : t.feature.detach()));
  }
  losses(s: StudentOut, t: TeacherOut): Record<string, Tensor> {
    const target = this.target(t);
    if (target.size(1) !== s.feature.size(1)) {
      throw new Error(
        `Alignment "none" needs equal feature dims; student ${s.feature.size(1)}, teacher ${target.size(1)}`,
      );
    }
    return { feature: F.mseLoss(s.feature, target).mul(this.lossWeight) };
  }
}

/** Hinton's logit distillation: KL(softmax(t/τ) ‖ softmax(s/τ))·τ², τ = 4 by default. */
export function logitKd(student: Tensor, teacher: Tensor, temperature = 4): Tensor {
  const logP = F.logSoftmax(student.div(temperature), 1);
  const q = noGrad(() => F.softmax(teacher.div(temperature), 1));
  return F.klDiv(logP, q, "batchmean").mul(temperature * temperature);
}

export class LogitAlignment extends Module implements Alignment {
  readonly method = "logits";
  constructor(
    readonly lossWeight: number,
    readonly temperature = 4,
  ) {
    super();
  }
  losses(s: StudentOut, t: TeacherOut): Record<string, Tensor> {
    if (!s.logits || !t.logits)
      throw new Error("Logit distillation needs student and teacher logits");
    return { logits: logitKd(s.logits, t.logits, this.temperature).mul(this.lossWeight) };
  }
}
