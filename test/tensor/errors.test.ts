// Bad input is a catchable JS error with a useful message; the process survives.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { native } from "../../src/native/binding.js";
import { Conv2d } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { callAten } from "../../src/tensor/opTable.js";

describe("error paths", () => {
  it("conv with the wrong channel count names both shapes", () => {
    const conv = new Conv2d(3, 8, 3);
    assert.throws(
      () => conv.forward(T.randn([1, 4, 8, 8])),
      /input has 4 channels but the weight \[8,3,3,3\]/,
    );
  });

  it("libtorch's own shape errors arrive with libtorch's text", () => {
    const w = T.randn([8, 3, 3, 3]);
    assert.throws(
      () => callAten("conv2d", T.randn([1, 4, 8, 8]).handle, w.handle),
      /expected input\[1, 4, 8, 8\] to have 3 channels/,
    );
    assert.throws(() => T.randn([2, 3]).matmul(T.randn([4, 5])), /cannot be multiplied/);
  });

  it("an op on a disposed tensor", () => {
    const a = T.ones([2]);
    a.dispose();
    assert.equal(a.isDisposed, true);
    assert.throws(() => a.add(1), /disposed/);
    a.dispose();
  });

  it("a dtype mismatch", () => {
    assert.throws(() => T.ones([2], { dtype: "int64" }).matmul(T.ones([2])), /dtype|type/i);
    assert.throws(() => T.randn([2, 3]).gather(1, T.zeros([2, 1])), /int64|Long|index/i);
  });

  it("a foreign object in place of a tensor", () => {
    assert.throws(() => native.dispose({} as never), /Expected a tensor handle/);
    assert.throws(
      () => callAten("relu", { fake: true } as never),
      /Expected a tensor handle for self/,
    );
    assert.throws(() => T.fromArray(new Float32Array(3), [2, 2]), /12 bytes but shape \[2, 2\]/);
    // A plain number (an index, a size) is not a handle, whatever its value.
    for (const n of [0, 7, 1.5, 2 ** 40, 2 ** 52 - 0.5, 2 ** 53, -1]) {
      assert.throws(() => callAten("relu", n as never), /Expected a tensor handle for self/);
    }
  });

  it("a stale handle stays dead after its slot is reused", () => {
    const a = T.ones([2]);
    const stale = a.handle;
    a.dispose();
    // The freed slot is the first one reused: b lives where a lived, under a new generation.
    const b = T.full([2], 5);
    assert.notEqual(b.handle, stale);
    assert.throws(() => callAten("relu", stale), /Tensor passed as self has been disposed/);
    assert.equal(native.dispose(stale), false, "disposing a stale handle is a no-op");
    assert.deepEqual(b.toArray(), [5, 5]);
    b.dispose();
  });

  it("the process is still healthy after all of the above", () => {
    assert.equal(T.ones([3]).sum().item(), 3);
  });
});
