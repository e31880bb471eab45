// Module: parameters, buffers and children in registration order, with PyTorch's dotted
// state-dict names. Registration is explicit (`this.registerModule("conv1", …)`) because JS
// has no __setattr__; the order of registration is the order of the state dict.
// Importing the tensor layer registers every op on Tensor.prototype and sets the thread count.
import "../tensor/index.js";
import { noGrad } from "../tensor/autograd.js";
import { type DType, isFloating } from "../tensor/dtype.js";
import { keep } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";

/** Keys {@link Module.loadStateDict} did not match. */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Tensors by PyTorch state-dict key. */
export type StateDict = Map<string, Tensor>;

/**
 * Base of every layer and model: named parameters, buffers and children, state dicts in PyTorch's
 * order, train/eval, device moves.
 */
export class Module {
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #nonPersistent = new Set<string>();
  readonly #children = new Map<string, Module>();
  #inferenceOnly: string | null = null;

  /** Registers a trainable tensor; it is kept alive outside every tidy scope. */
  registerParameter(name: string, t: Tensor | null): Tensor {
    this.#checkName(name, this.#params);
    if (t) keep(t).requiresGrad_(true);
    this.#params.set(name, t);
    return t as Tensor;
  }

  /** Registers state that is saved but not trained (running statistics, counters). */
  registerBuffer(name: string, t: Tensor | null, persistent = true): Tensor {
    this.#checkName(name, this.#buffers);
    if (t) keep(t);
    this.#buffers.set(name, t);
    if (!persistent) this.#nonPersistent.add(name);
    return t as Tensor;
  }

  registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name, this.#children);
    this.#children.set(name, m);
    return m;
  }

  #checkName(name: string, own: Map<string, unknown>): void {
    if (name === "" || name.includes(".")) throw new Error(`Invalid member name "${name}"`);
    const taken = this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name);
    if (taken && !own.has(name)) throw new Error(`"${name}" is already registered on this module`);
  }

  /** Replaces a registered parameter or buffer tensor (disposing the old one). */
  setTensor(name: string, t: Tensor): void {
    const map = this.#params.has(name)
      ? this.#params
      : this.#buffers.has(name)
        ? this.#buffers
        : null;
    if (map === null) throw new Error(`No parameter or buffer named "${name}"`);
    const old = map.get(name);
    keep(t);
    if (map === this.#params) t.requiresGrad_(true);
    map.set(name, t);
    if (old && old !== t) old.dispose();
  }

  /** Direct parameter, buffer or child by name. */
  getParameter(name: string): Tensor | null {
    return this.#params.get(name) ?? null;
  }
  getBuffer(name: string): Tensor | null {
    return this.#buffers.get(name) ?? null;
  }
  getModule(name: string): Module | undefined {
    return this.#children.get(name);
  }

  *namedChildren(): Generator<[string, Module]> {
    yield* this.#children;
  }
  children(): Module[] {
    return [...this.#children.values()];
  }

  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this.#children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  *namedParameters(prefix = "", recurse = true): Generator<[string, Tensor]> {
    for (const [n, p] of this.#params) if (p) yield [prefix ? `${prefix}.${n}` : n, p];
    if (!recurse) return;
    for (const [n, c] of this.#children) yield* c.namedParameters(prefix ? `${prefix}.${n}` : n);
  }
  parameters(recurse = true): Tensor[] {
    return [...this.namedParameters("", recurse)].map(([, p]) => p);
  }

  *namedBuffers(prefix = "", recurse = true): Generator<[string, Tensor]> {
    for (const [n, b] of this.#buffers) if (b) yield [prefix ? `${prefix}.${n}` : n, b];
    if (!recurse) return;
    for (const [n, c] of this.#children) yield* c.namedBuffers(prefix ? `${prefix}.${n}` : n);
  }
  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers("", recurse)].map(([, b]) => b);
  }

  /** Parameters then persistent buffers of each module, depth first: PyTorch's order. */
  stateDict(prefix = "", out: StateDict = new Map()): StateDict {
    for (const [n, p] of this.#params) if (p) out.set(prefix + n, p);
    for (const [n, b] of this.#buffers)
      if (b && !this.#nonPersistent.has(n)) out.set(prefix + n, b);
    for (const [n, c] of this.#children) c.stateDict(`${prefix}${n}.`, out);
    return out;
  }

  /**
   * Copies values in place. strict: any missing or unexpected key is an error. A shape
   * mismatch is always an error naming the key and both shapes.
   */
  loadStateDict(
    sd: StateDict | Record<string, Tensor>,
    opts: { strict?: boolean } = {},
  ): LoadResult {
    this.#refuseIfInferenceOnly("loadStateDict");
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !own.has(k));
    if ((opts.strict ?? true) && (missingKeys.length || unexpectedKeys.length)) {
      throw new Error(
        `Error loading state dict: missing keys [${missingKeys.join(", ")}]; unexpected keys [${unexpectedKeys.join(", ")}]`,
      );
    }
    for (const [k, t] of own) {
      const v = src.get(k);
      if (!v) continue;
      const a = t.shape;
      const b = v.shape;
      if (a.length !== b.length || a.some((s, i) => s !== b[i])) {
        throw new Error(`Size mismatch for ${k}: checkpoint has [${b}], the model has [${a}]`);
      }
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const v = src.get(k);
        if (v) t.copy_(v);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  train(mode = true): this {
    if (mode) this.#refuseIfInferenceOnly("train()");
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Calls fn on every module, children first (as PyTorch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.#children.values()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Moves every parameter, buffer and gradient to `device` and casts floating ones to
   * `dtype` (integer buffers such as BN's counter keep theirs), in place like PyTorch's
   * `module.to`: the tensor objects stay the same, so fields and optimisers that hold them
   * see the moved data.
   */
  to(target: string | { device?: string; dtype?: DType }): this {
    const { device, dtype } = typeof target === "string" ? { device: target } : target;
    const convert = (t: Tensor): void => {
      const want = {
        device: device ?? t.device,
        dtype: dtype !== undefined && isFloating(t.dtype) ? dtype : t.dtype,
      };
      if (want.device === t.device && want.dtype === t.dtype) return;
      const moved = t.to(want);
      t.setData_(moved);
      moved.dispose();
    };
    noGrad(() => {
      for (const p of this.parameters()) {
        convert(p);
        const g = p.grad;
        if (g) {
          convert(g);
          p.grad = g;
          g.dispose();
        }
      }
      for (const b of this.buffers()) convert(b);
    });
    return this;
  }

  /** Freezes (false) or unfreezes (true) every parameter. */
  requiresGrad_(on = true): this {
    if (on) this.#refuseIfInferenceOnly("requiresGrad_(true)");
    for (const p of this.parameters()) p.requiresGrad_(on);
    return this;
  }

  /**
   * Marks this module inference-only (a transform such as BN folding made its parameters
   * unfit to train or to load a checkpoint into): eval mode, parameters frozen, and from now
   * on train(), requiresGrad_(true) and loadStateDict on it or any module above it throw an
   * error that gives `reason`.
   */
  setInferenceOnly(reason: string): void {
    this.train(false).requiresGrad_(false);
    this.#inferenceOnly = reason;
  }
  /** Why this module is inference-only, or null when it can train. */
  get inferenceOnly(): string | null {
    return this.#inferenceOnly;
  }
  #refuseIfInferenceOnly(what: string): void {
    const m = this.modules().find((c) => c.#inferenceOnly !== null);
    if (m) throw new Error(`${this.constructor.name}.${what} refused: ${m.#inferenceOnly}`);
  }

  /** Drops every parameter's gradient (set to None, PyTorch's default since 2.0). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Frees every parameter and buffer now. */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
  }
}

/** A module with a single-tensor forward, composable in Sequential. */
export interface Forward {
  forward(x: Tensor): Tensor;
}

/** A module with a forward(x) method: what {@link Sequential} chains. */
export type Layer = Module & Forward;
