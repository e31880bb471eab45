// ATen operators by schema name, looked up once in the dispatcher and cached by id.
import { native, type OpArg, type OpResult } from "../native/binding.js";

const ids = new Map<string, number>();

function idOf(name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    const dot = name.indexOf(".");
    const base = dot < 0 ? name : name.slice(0, dot);
    const overload = dot < 0 ? "" : name.slice(dot + 1);
    id = native.lookupOp(`aten::${base}`, overload).id;
    ids.set(name, id);
  }
  return id;
}

// The native entry point with the op id bound. An operator this libtorch lacks fails when
// called, not when the module defining it is imported.
function bound<R>(
  name: string,
  call: (id: number, ...args: OpArg[]) => R,
): (...args: OpArg[]) => R {
  let id: number;
  try {
    id = idOf(name);
  } catch (err) {
    return () => {
      throw err;
    };
  }
  return call.bind(native, id);
}

/**
 * A caller bound to one operator: the native function itself with the op id bound, so a
 * hot path pays neither a name lookup nor a JS wrapper.
 */
export function aten(name: string): (...args: OpArg[]) => OpResult {
  return bound(name, native.callOp);
}

/** As `aten`, for an in-place operator whose (aliased) result is not wrapped. */
export function atenInPlace(name: string): (...args: OpArg[]) => undefined {
  return bound(name, native.callOpDiscard);
}

/** Calls `aten::<name>` ("add.Tensor" names an overload). */
export function callAten(name: string, ...args: OpArg[]): OpResult {
  return native.callOp(idOf(name), ...args);
}

/** Calls an in-place `aten::` operator without wrapping its (aliased) result. */
export function callAtenInPlace(name: string, ...args: OpArg[]): void {
  native.callOpDiscard(idOf(name), ...args);
}

/** The schema text of an operator, for error messages and docs. */
export function schemaOf(name: string): string {
  const dot = name.indexOf(".");
  return native.lookupOp(
    `aten::${dot < 0 ? name : name.slice(0, dot)}`,
    dot < 0 ? "" : name.slice(dot + 1),
  ).schema;
}
