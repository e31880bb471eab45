// SGD with torch.optim.SGD's exact update (single-tensor path):
//   d = g + wd·p;  buf = d (first step) or momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p −= lr·d   (maximize negates g first).
import { noGrad } from "../tensor/autograd.js";
import { clone } from "../tensor/ops/shape.js";
import { keep, tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";

/** Options of {@link SGD} (PyTorch's names and defaults). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

/** A parameter group of {@link SGD} with every option resolved. */
export interface ParamGroup extends Required<SGDOptions> {
  params: Tensor[];
  /** The lr a schedule multiplies (PyTorch's initial_lr). */
  initialLr: number;
}

/** A parameter group as given to {@link SGD}: parameters plus options overriding the defaults. */
export type ParamGroupInput = { params: Tensor[] } & Partial<SGDOptions>;

/** Serialisable state in torch.optim's layout (params referenced by index). */
export interface SGDState {
  state: Map<number, { momentum_buffer: Tensor }>;
  param_groups: Array<{
    lr: number;
    momentum: number;
    dampening: number;
    weight_decay: number;
    nesterov: boolean;
    maximize: boolean;
    foreach: null;
    differentiable: boolean;
    initial_lr: number;
    params: number[];
  }>;
}

/**
 * Stochastic gradient descent with PyTorch's exact update (momentum, dampening, Nesterov, weight
 * decay, parameter groups) and torch.optim's state layout.
 */
export class SGD {
  readonly paramGroups: ParamGroup[];
  readonly #buffers = new Map<Tensor, Tensor>();
  /** Runs first in every step(), e.g. data-parallel gradient averaging. */
  beforeStep: (() => void) | null = null;

  constructor(params: Tensor[] | ParamGroupInput[], defaults: SGDOptions) {
    const groups: ParamGroupInput[] =
      params.length > 0 && "params" in (params[0] as object)
        ? (params as ParamGroupInput[])
        : [{ params: params as Tensor[] }];
    this.paramGroups = groups.map((g) => {
      const o = { ...defaults, ...g };
      const group: ParamGroup = {
        params: g.params,
        lr: o.lr,
        momentum: o.momentum ?? 0,
        dampening: o.dampening ?? 0,
        weightDecay: o.weightDecay ?? 0,
        nesterov: o.nesterov ?? false,
        maximize: o.maximize ?? false,
        initialLr: o.lr,
      };
      if (group.lr < 0) throw new Error(`Invalid learning rate ${group.lr}`);
      if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
        throw new Error("Nesterov momentum requires momentum > 0 and dampening = 0");
      }
      return group;
    });
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (seen.has(p)) throw new Error("A parameter appears in more than one parameter group");
        seen.add(p);
      }
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.beforeStep?.();
    // One scope frees every temporary (gradient wrappers, decayed gradients); the momentum
    // buffers are kept.
    tidy(() =>
      noGrad(() => {
        for (const g of this.paramGroups) {
          for (const p of g.params) {
            const grad = p.grad;
            if (grad === null) continue;
            let d = g.maximize ? grad.neg() : grad;
            if (g.weightDecay !== 0) d = d.add(p, g.weightDecay);
            if (g.momentum !== 0) {
              let buf = this.#buffers.get(p);
              if (buf === undefined) {
                buf = keep(clone(d));
                this.#buffers.set(p, buf);
              } else {
                buf.mul_(g.momentum).add_(d, 1 - g.dampening);
              }
              d = g.nesterov ? d.add(buf, g.momentum) : buf;
            }
            p.add_(d, -g.lr);
          }
        }
      }),
    );
  }

  /** Drops the gradients of every parameter (set to None). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  stateDict(): SGDState {
    const state = new Map<number, { momentum_buffer: Tensor }>();
    let i = 0;
    const param_groups = this.paramGroups.map((g) => {
      const ids: number[] = [];
      for (const p of g.params) {
        const b = this.#buffers.get(p);
        if (b) state.set(i, { momentum_buffer: b });
        ids.push(i++);
      }
      return {
        lr: g.lr,
        momentum: g.momentum,
        dampening: g.dampening,
        weight_decay: g.weightDecay,
        nesterov: g.nesterov,
        maximize: g.maximize,
        foreach: null,
        differentiable: false,
        initial_lr: g.initialLr,
        params: ids,
      };
    });
    return { state, param_groups };
  }

  /** Restores hyper-parameters and momentum buffers (copied) from stateDict() output. */
  loadStateDict(sd: SGDState): void {
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new Error(
        `Optimizer state has ${sd.param_groups.length} parameter groups, this optimizer ${this.paramGroups.length}`,
      );
    }
    sd.param_groups.forEach((src, gi) => {
      const g = this.paramGroups[gi];
      if (src.params.length !== g.params.length) {
        throw new Error(
          `Parameter group ${gi} has ${src.params.length} parameters in the state, ${g.params.length} here`,
        );
      }
      Object.assign(g, {
        lr: src.lr,
        momentum: src.momentum,
        dampening: src.dampening,
        weightDecay: src.weight_decay,
        nesterov: src.nesterov,
        maximize: src.maximize,
        initialLr: src.initial_lr ?? src.lr,
      });
      src.params.forEach((id, k) => {
        const buf = sd.state.get(id)?.momentum_buffer;
        const p = g.params[k];
        this.#buffers.get(p)?.dispose();
        if (buf) this.#buffers.set(p, keep(clone(buf)));
        else this.#buffers.delete(p);
      });
    });
  }
}
