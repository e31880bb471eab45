// Student + alignment in one module (what trains and what is saved), with the frozen
// teacher beside it (not registered: never trained, never saved; readied in place by
// freezeTeacher: BN folded into its convs, channels-last on the CPU). `losses` returns the
// named loss terms of one batch; `step` is one optimiser step with optional micro-batches.
// Without a teacher (null), the targets come from a cache (`targets` arguments): the SVD
// feature loss only.
import type { Backbone } from "../../models/backbone.js";
import { F, Module } from "../../nn/index.js";
import { GradScaler, type GradScalerOptions, type SGD } from "../../optim/index.js";
import {
  type AmpDevice,
  type AmpDtype,
  noGrad,
  type Tensor,
  tidy,
  withAutocast,
} from "../../tensor/index.js";
import { type Alignment, logitKd, type StudentOut, type TeacherOut } from "./alignment.js";
import { freezeTeacher } from "./frozenTeacher.js";

export interface DistillerOptions {
  logitWeight?: number;
  ceWeight?: number;
  kdTemperature?: number;
  channelsLast?: boolean;
  /** Mixed precision: forward passes under autocast; float16 adds loss scaling. */
  amp?: { device: AmpDevice; dtype: AmpDtype };
  /** Loss-scaler settings; a scaler is used with float16 autocast, or whenever this is set
   *  (CPU tests of the float16 path's bookkeeping, where float16 autocast is refused). */
  lossScaling?: GradScalerOptions;
}

export class Distiller extends Module {
  readonly needLogits: boolean;
  readonly scaler: GradScaler | null;
  constructor(
    readonly teacher: Backbone | null,
    readonly student: Backbone,
    readonly align: Alignment,
    readonly opts: DistillerOptions = {},
  ) {
    super();
    this.scaler =
      opts.amp?.dtype === "float16" || opts.lossScaling ? new GradScaler(opts.lossScaling) : null;
    this.registerModule("student", student);
    this.registerModule("align", align);
    this.needLogits =
      align.method === "logits" || (opts.logitWeight ?? 0) > 0 || (opts.ceWeight ?? 0) > 0;
    student.preReluFeature = true;
    if (!teacher) {
      if (this.needLogits || align.method !== "svd")
        throw new Error(
          "Cached teacher targets serve the SVD feature loss only: logit, CE and other alignments need the teacher",
        );
      return;
    }
    freezeTeacher(teacher); // inference only from here: BN folded, channels-last on the CPU
    if (this.needLogits && (teacher.numClasses === 0 || student.numClasses === 0)) {
      throw new Error("Logit terms need classifier heads on both teacher and student");
    }
  }

  /** The teacher's pooled pre-ReLU feature (and logits when a term needs them), no grad. */
  teacherOut(x: Tensor): TeacherOut {
    const teacher = this.teacher;
    if (!teacher) throw new Error("This distiller has no teacher: pass cached targets");
    return noGrad(() => {
      const map = teacher.forwardFeatures(x);
      const feature = teacher.forwardHead(map, { preLogits: true });
      return this.needLogits ? { feature, logits: teacher.forwardHead(map) } : { feature };
    });
  }

  studentOut(x: Tensor): StudentOut {
    const map = this.student.forwardFeatures(x);
    const feature = this.student.forwardHead(map, { preLogits: true });
    return this.needLogits ? { feature, logits: this.student.forwardHead(map) } : { feature };
  }

  /**
   * The same tensor goes to teacher and student (docs/method.md#loss-and-optimisation); `targets`, cached
   * projections of the teacher's feature for these images, replace the teacher.
   */
  losses(images: Tensor, labels: Tensor, targets?: Tensor): Record<string, Tensor> {
    const x = this.opts.channelsLast ? images.channelsLast() : images;
    const s = this.studentOut(x);
    // `feature` is never read with cached targets (SVD alignment only, see the constructor).
    const t = targets ? { feature: targets, projected: targets } : this.teacherOut(x);
    const terms = this.align.losses(s, t);
    const lw = this.opts.logitWeight ?? 0;
    if (lw > 0 && this.align.method !== "logits") {
      terms.logits = logitKd(s.logits!, t.logits!, this.opts.kdTemperature ?? 4).mul(lw);
    }
    const cw = this.opts.ceWeight ?? 0;
    if (cw > 0) terms.ce = F.crossEntropy(s.logits!, labels).mul(cw);
    return terms;
  }

  /**
   * One optimiser step on a batch; with `microBatch` smaller than the batch, gradients of
   * the chunks are accumulated, each weighted by its share of the batch.
   */
  step(
    images: Tensor,
    labels: Tensor,
    optimizer: SGD,
    microBatch?: number,
    targets?: Tensor,
  ): Record<string, number> {
    return tidy(() => {
      const n = images.size(0);
      const split = microBatch !== undefined && microBatch < n;
      const xs = split ? images.split(microBatch) : [images];
      const ys = split ? labels.split(microBatch) : [labels];
      const ts = targets && split ? targets.split(microBatch) : [targets];
      const sums: Record<string, number> = {};
      optimizer.zeroGrad();
      xs.forEach((x, i) => {
        tidy(() => {
          // Each term is a mean over its chunk; weighting by the chunk's share of the batch
          // makes the sum the full batch's mean even when the last chunk is short.
          const w = x.size(0) / n;
          const terms = this.#autocast(() => this.losses(x, ys[i], ts[i]));
          const sum = Object.values(terms).reduce((a, t) => a.add(t));
          const total = split ? sum.mul(w) : sum;
          (this.scaler ? this.scaler.scaleLoss(total) : total).backward();
          for (const [k, t] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + t.item() * w;
        });
      });
      if (this.scaler) this.scaler.step(optimizer);
      else optimizer.step();
      return sums;
    });
  }

  #autocast<T>(fn: () => T): T {
    const amp = this.opts.amp;
    return amp ? withAutocast(amp.device, amp.dtype, fn) : fn();
  }

  /** Mean named losses of a batch without grad (validation). */
  evalLosses(images: Tensor, labels: Tensor): Record<string, number> {
    return tidy(() =>
      noGrad(() =>
        Object.fromEntries(
          Object.entries(this.losses(images, labels)).map(([k, t]) => [k, t.item()]),
        ),
      ),
    );
  }
}
