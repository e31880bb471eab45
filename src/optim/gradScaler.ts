// Loss scaling for float16 training (as torch.cuda.amp.GradScaler): the loss is multiplied
// by `scale` before backward so small gradients survive float16; the gradients are divided
// back before the step. A step whose gradients hold inf/NaN is skipped and the scale
// halved; after `growthInterval` good steps in a row it doubles.
import { noGrad, type Tensor, tidy } from "../tensor/index.js";
import type { SGD } from "./sgd.js";

/** Settings of a {@link GradScaler}; the defaults are torch.cuda.amp.GradScaler's. */
export interface GradScalerOptions {
  /** The first loss scale (default 2^16). */
  initScale?: number;
  /** Multiplies the scale after `growthInterval` finite steps in a row (default 2). */
  growthFactor?: number;
  /** Multiplies the scale after a step with non-finite gradients (default 0.5). */
  backoffFactor?: number;
  /** Finite steps in a row before the scale grows (default 2000). */
  growthInterval?: number;
}

/** A {@link GradScaler}'s state in torch.cuda.amp.GradScaler.state_dict()'s keys. */
export interface GradScalerState {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  /** Finite steps in a row since the scale last changed. */
  _growth_tracker: number;
}

/** Dynamic loss scaling for float16 training: scale the loss, unscale, skip bad steps. */
export class GradScaler {
  /** The current loss scale. */
  scale: number;
  /** See {@link GradScalerOptions.growthFactor}. */
  readonly growthFactor: number;
  /** See {@link GradScalerOptions.backoffFactor}. */
  readonly backoffFactor: number;
  /** See {@link GradScalerOptions.growthInterval}. */
  readonly growthInterval: number;
  #goodSteps = 0;

  /** A scaler with the given settings (torch.cuda.amp.GradScaler's defaults otherwise). */
  constructor(o: GradScalerOptions = {}) {
    this.scale = o.initScale ?? 2 ** 16;
    this.growthFactor = o.growthFactor ?? 2;
    this.backoffFactor = o.backoffFactor ?? 0.5;
    this.growthInterval = o.growthInterval ?? 2000;
  }

  /** The loss multiplied by the current scale; call `backward()` on this. */
  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /**
   * Unscales the gradients, then steps the optimiser unless one is not finite; updates the
   * scale. Returns whether the step was taken.
   */
  step(optimizer: SGD): boolean {
    // One host sync per step: the sum of every gradient's sum is non-finite when any
    // element is (or when it overflows: also a skip).
    const finite = tidy(() =>
      noGrad(() => {
        const inv = 1 / this.scale;
        let total: Tensor | null = null;
        for (const g of optimizer.paramGroups)
          for (const p of g.params) {
            const grad = p.grad;
            if (grad === null) continue;
            grad.mul_(inv);
            const s = grad.sum();
            total = total ? total.add(s) : s;
          }
        return total === null || Number.isFinite(total.item());
      }),
    );
    if (finite) {
      optimizer.step();
      if (++this.#goodSteps >= this.growthInterval) {
        this.scale *= this.growthFactor;
        this.#goodSteps = 0;
      }
    } else {
      this.scale *= this.backoffFactor;
      this.#goodSteps = 0;
    }
    return finite;
  }

  /** The scale, settings and growth tracker, as torch's GradScaler.state_dict(). */
  stateDict(): GradScalerState {
    return {
      scale: this.scale,
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.#goodSteps,
    };
  }

  /** Restores the scale and growth tracker saved by {@link stateDict} (settings stay). */
  loadStateDict(s: Partial<GradScalerState> | Map<string | number, unknown>): void {
    const get = (k: keyof GradScalerState) => (s instanceof Map ? s.get(k) : s[k]);
    const scale = Number(get("scale"));
    const tracker = Number(get("_growth_tracker"));
    if (!(scale > 0) || !Number.isInteger(tracker) || tracker < 0)
      throw new Error(
        `GradScaler state: expected scale > 0 and _growth_tracker ≥ 0, got ${get("scale")} and ${get("_growth_tracker")}`,
      );
    this.scale = scale;
    this.#goodSteps = tracker;
  }
}
