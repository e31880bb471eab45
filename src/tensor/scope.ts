// Deterministic memory: every tensor created inside `tidy(fn)` is disposed when fn returns,
// except the tensors fn returns and those marked with `keep`. A tensor that no scope owns
// is handed to the GC safety net (`orphaned`); training loops should not rely on GC.
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  kept: boolean;
  /** No scope will free this any more: let GC free it when it becomes unreachable. */
  orphaned(): void;
}

const scopes: Disposable[][] = [];

export function track(t: Disposable): void {
  const top = scopes[scopes.length - 1];
  if (top !== undefined) top.push(t);
  else t.orphaned();
}

/** Marks a tensor to survive every enclosing scope (parameters, buffers, caches). */
export function keep<T extends Disposable>(t: T): T {
  t.kept = true;
  t.orphaned();
  return t;
}

function collect(v: unknown, out: Set<unknown>, depth = 0): void {
  if (v === null || typeof v !== "object" || depth > 4) return;
  if ("dispose" in v && "kept" in v) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) for (const e of v) collect(e, out, depth + 1);
  else if (v instanceof Map) for (const e of v.values()) collect(e, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype)
    for (const e of Object.values(v)) collect(e, out, depth + 1);
}

/**
 * Runs fn and frees every tensor it created, except what it returns (found in a returned
 * tensor, array, Map or plain object, a few levels deep). Synchronous by design: an async fn
 * would let other work create tensors inside the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Disposable[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error("tidy() takes a synchronous function");
  } finally {
    scopes.pop();
  }
  const survivors = new Set<unknown>();
  collect(result, survivors);
  for (const t of scope) {
    if (survivors.has(t)) track(t);
    else if (!t.kept && !t.isDisposed) t.dispose();
  }
  return result;
}

/** Frees a tensor and leaves a value other than a tensor untouched. */
export function dispose(...ts: (Disposable | null | undefined)[]): void {
  for (const t of ts) if (t && !t.isDisposed) t.dispose();
}
