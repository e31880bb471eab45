// Learning-rate schedules as closed-form multipliers of each group's initial lr, stepped
// once per epoch (or per iteration for poly). Closed forms avoid the drift of PyTorch's
// chained updates while giving the same values.
import type { ParamGroup } from "./sgd.js";

/** A learning-rate schedule, as data (step, multi-step, cosine, poly…). */
export type Schedule =
  | { kind: "step"; stepSize: number; gamma?: number }
  | { kind: "multistep"; milestones: readonly number[]; gamma?: number }
  | { kind: "poly"; maxSteps: number; power?: number }
  | { kind: "cosine"; maxSteps: number; minLr?: number }
  | { kind: "constant" };

/** The lr multiplier after `t` steps (t = 0 is the start). */
export function lrFactor(s: Schedule, t: number, baseLr = 1): number {
  switch (s.kind) {
    case "step":
      return (s.gamma ?? 0.1) ** Math.floor(t / s.stepSize);
    case "multistep":
      return (s.gamma ?? 0.1) ** s.milestones.filter((m) => m <= t).length;
    case "poly":
      return Math.max(0, 1 - t / s.maxSteps) ** (s.power ?? 0.9);
    case "cosine": {
      // Periodic past maxSteps, as CosineAnnealingLR.
      const minFactor = (s.minLr ?? 0) / baseLr;
      return minFactor + ((1 - minFactor) * (1 + Math.cos((Math.PI * t) / s.maxSteps))) / 2;
    }
    case "constant":
      return 1;
  }
}

/** A linear warm-up before a schedule. */
export interface Warmup {
  steps: number;
  startFactor?: number;
}

/** Multiplier of a linear warm-up from startFactor to 1 over `steps` (LinearLR). */
export function warmupFactor(w: Warmup | undefined, t: number): number {
  if (!w || w.steps <= 0 || t >= w.steps) return 1;
  const start = w.startFactor ?? 1 / 3;
  return start + ((1 - start) * t) / w.steps;
}

/** Drives param-group lrs; `step()` advances by one and applies the new lr. */
export class LRScheduler {
  lastStep = 0;
  constructor(
    readonly groups: ParamGroup[],
    readonly schedule: Schedule,
    readonly warmup?: Warmup,
  ) {
    this.#apply();
  }
  #apply(): void {
    for (const g of this.groups) {
      g.lr =
        g.initialLr *
        lrFactor(this.schedule, this.lastStep, g.initialLr) *
        warmupFactor(this.warmup, this.lastStep);
    }
  }
  step(): void {
    this.lastStep++;
    this.#apply();
  }
  /** Jumps to step t (resuming a run). */
  setStep(t: number): void {
    this.lastStep = t;
    this.#apply();
  }
  get lrs(): number[] {
    return this.groups.map((g) => g.lr);
  }
  stateDict(): { last_epoch: number } {
    return { last_epoch: this.lastStep };
  }
  loadStateDict(s: { last_epoch: number }): void {
    this.setStep(s.last_epoch);
  }
}
