// Student + alignment in one module (what trains and what is saved), with the frozen
// teacher beside it (not registered: never trained, never saved). `losses` returns the
// named loss terms of one batch; `step` is one optimiser step with optional micro-batches.
import type { Backbone } from "../../models/backbone.js";
import { F, Module } from "../../nn/index.js";
import type { SGD } from "../../optim/index.js";
import { noGrad, type Tensor, tidy } from "../../tensor/index.js";
import { type Alignment, logitKd, type StudentOut, type TeacherOut } from "./alignment.js";

export interface DistillerOptions {
  logitWeight?: number;
  ceWeight?: number;
  kdTemperature?: number;
  channelsLast?: boolean;
}

export class Distiller extends Module {
  readonly needLogits: boolean;
  constructor(
    readonly teacher: Backbone,
    readonly student: Backbone,
    readonly align: Alignment,
    readonly opts: DistillerOptions = {},
  ) {
    super();
    this.registerModule("student", student);
    this.registerModule("align", align);
    this.needLogits =
      align.method === "logits" || (opts.logitWeight ?? 0) > 0 || (opts.ceWeight ?? 0) > 0;
    teacher.preReluFeature = true;
    student.preReluFeature = true;
    teacher.eval().requiresGrad_(false);
    if (this.needLogits && (teacher.numClasses === 0 || student.numClasses === 0)) {
      throw new Error("Logit terms need classifier heads on both teacher and student");
    }
  }

  /** The teacher's pooled pre-ReLU feature (and logits when a term needs them), no grad. */
  teacherOut(x: Tensor): TeacherOut {
    return noGrad(() => {
      const map = this.teacher.forwardFeatures(x);
      const feature = this.teacher.forwardHead(map, { preLogits: true });
      return this.needLogits ? { feature, logits: this.teacher.forwardHead(map) } : { feature };
    });
  }

  studentOut(x: Tensor): StudentOut {
    const map = this.student.forwardFeatures(x);
    const feature = this.student.forwardHead(map, { preLogits: true });
    return this.needLogits ? { feature, logits: this.student.forwardHead(map) } : { feature };
  }

  /** The same tensor goes to teacher and student (docs/method.md#loss-and-optimisation). */
  losses(images: Tensor, labels: Tensor): Record<string, Tensor> {
    const x = this.opts.channelsLast ? images.channelsLast() : images;
    const s = this.studentOut(x);
    const t = this.teacherOut(x);
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
   * the chunks are accumulated (each chunk's loss divided by the chunk count).
   */
  step(
    images: Tensor,
    labels: Tensor,
    optimizer: SGD,
    microBatch?: number,
  ): Record<string, number> {
    return tidy(() => {
      const n = images.size(0);
      const split = microBatch !== undefined && microBatch < n;
      const xs = split ? images.split(microBatch) : [images];
      const ys = split ? labels.split(microBatch) : [labels];
      const sums: Record<string, number> = {};
      optimizer.zeroGrad();
      xs.forEach((x, i) => {
        tidy(() => {
          const terms = this.losses(x, ys[i]);
          const total = Object.values(terms).reduce((a, t) => a.add(t));
          total.div(xs.length).backward();
          for (const [k, t] of Object.entries(terms))
            sums[k] = (sums[k] ?? 0) + t.item() / xs.length;
        });
      });
      optimizer.step();
      return sums;
    });
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
