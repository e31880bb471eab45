// The unboxed fast path (native/src/unboxed.cc) must be taken for the simple schemas and give
// exactly what the boxed path gives; anything it cannot convert falls back to the boxed path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { native } from "../../src/native/binding.js";
import * as T from "../../src/tensor/index.js";
import { callAten, callAtenInPlace } from "../../src/tensor/opTable.js";
import { wrap } from "../../src/tensor/tensor.js";

const lookup = (name: string, overload = "") => native.lookupOp(`aten::${name}`, overload);
const wrapped = wrap;

describe("unboxed operator calls", () => {
  it("are used for tensor/scalar schemas returning one tensor, and only for those", () => {
    for (const [name, overload] of [
      ["add", "Tensor"],
      ["add_", "Tensor"],
      ["mul", "Scalar"],
      ["mul_", "Tensor"],
      ["relu", ""],
      ["masked_fill", "Scalar"],
      ["hardtanh", ""],
    ]) {
      assert.equal(lookup(name, overload).unboxed, true, `${name}.${overload}`);
    }
    for (const [name, overload] of [
      ["add", "out"], // writes an argument other than self
      ["conv2d", ""], // int[] and optional arguments
      ["sum", "dim_IntList"],
      ["max", "dim"], // two results
      ["clamp", ""], // Scalar? arguments
    ]) {
      assert.equal(lookup(name, overload).unboxed, false, `${name}.${overload}`);
    }
  });

  it("give the boxed path's values, dtypes and defaults", () => {
    const a = T.fromArray(new Float32Array([1, 2, 3]), [3]);
    const b = T.fromArray(new Float32Array([0.5, -1, 4]), [3]);
    // A trailing explicit undefined cannot be converted unboxed: that call goes boxed.
    assert.deepEqual(
      wrapped(callAten("add.Tensor", a.handle, b.handle)).toArray(),
      wrapped(callAten("add.Tensor", a.handle, b.handle, undefined)).toArray(),
    );
    assert.deepEqual(
      wrapped(callAten("add.Tensor", a.handle, b.handle, 0.5)).toArray(),
      [1.25, 1.5, 5],
    );
    // {f: x} is a float scalar, only the boxed path reads it.
    assert.deepEqual(
      wrapped(callAten("sub.Tensor", a.handle, b.handle, 3)).toArray(),
      wrapped(callAten("sub.Tensor", a.handle, b.handle, { f: 3 })).toArray(),
    );
    // Python's scalar rules: an integral number keeps an integer tensor integral.
    const i = T.fromArray(new BigInt64Array([1n, 2n]), [2]);
    const twice = wrapped(callAten("mul.Scalar", i.handle, 2));
    assert.equal(twice.dtype, "int64");
    assert.deepEqual(twice.toArray(), [2, 4]);
    const half = wrapped(callAten("mul.Scalar", i.handle, 2.5));
    assert.equal(half.dtype, "float32");
    assert.deepEqual(half.toArray(), [2.5, 5]);
    assert.deepEqual(wrapped(callAten("hardtanh", a.handle)).toArray(), [1, 1, 1]);
    assert.deepEqual(wrapped(callAten("hardtanh", a.handle, 0, 2)).toArray(), [1, 2, 2]);
  });

  it("in place, write self and return a handle to the same storage", () => {
    const a = T.fromArray(new Float32Array([1, 2]), [2]);
    const b = T.fromArray(new Float32Array([10, 20]), [2]);
    const r = wrapped(callAten("add_.Tensor", a.handle, b.handle, 2));
    assert.deepEqual(a.toArray(), [21, 42]);
    assert.equal(native.dataPtr(r.handle), native.dataPtr(a.handle));
    callAtenInPlace("mul_.Scalar", a.handle, 0.5);
    assert.deepEqual(a.toArray(), [10.5, 21]);
  });

  it("record autograd as the boxed path does", () => {
    const x = T.fromArray(new Float32Array([1, -2, 3]), [3]).requiresGrad_(true);
    const y = wrapped(callAten("mul.Tensor", x.handle, x.handle));
    wrapped(callAten("relu", y.handle)).sum().backward();
    assert.deepEqual(x.grad?.toArray(), [2, -4, 6]);
  });

  it("pass libtorch's errors through and leave bad arguments to the boxed path's messages", () => {
    const a = T.ones([2]);
    const b = T.ones([3]);
    assert.throws(
      () => callAten("add.Tensor", a.handle, b.handle),
      /size of tensor a \(2\) must match the size of tensor b \(3\)/,
    );
    assert.throws(
      () => callAten("add.Tensor", a.handle, "x" as never),
      /Expected a tensor handle for other/,
    );
    assert.throws(
      () => callAten("mul.Scalar", a.handle, "x" as never),
      /Expected a number for other/,
    );
    const gone = T.ones([2]);
    const stale = gone.handle;
    gone.dispose();
    assert.throws(
      () => callAten("add.Tensor", a.handle, stale),
      /Tensor passed as other has been disposed/,
    );
    assert.throws(() => callAten("relu", a.handle, a.handle), /takes 1 arguments but received 2/);
  });
});
