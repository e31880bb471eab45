// Tensor basics with hand-computed values: creation, dtypes, views, autograd modes, threads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { native } from "../../src/native/binding.js";
import * as T from "../../src/tensor/index.js";

describe("Tensor", () => {
  it("round-trips TypedArrays of every dtype", () => {
    const f = T.fromArray(new Float32Array([1.5, -2, 3]), [3]);
    assert.deepEqual([...(f.toTypedArray() as Float32Array)], [1.5, -2, 3]);
    const l = T.fromArray(new BigInt64Array([1n, -2n, 2n ** 40n]));
    assert.equal(l.dtype, "int64");
    assert.deepEqual([...(l.toTypedArray() as BigInt64Array)], [1n, -2n, 2n ** 40n]);
    for (const dtype of ["float64", "int32", "uint8", "bool", "int8", "int16"] as const) {
      const t = T.fromArray([0, 1, 1], [3], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), [0, 1, 1]);
    }
    const h = f.to("float16");
    const b = f.to("bfloat16");
    assert.deepEqual([h.dtype, b.dtype], ["float16", "bfloat16"]);
    assert.deepEqual(h.float().toArray(), [1.5, -2, 3]);
    assert.deepEqual(b.to("float32").toArray(), [1.5, -2, 3]);
    assert.equal(h.toBytes().length, 6);
  });

  it("creation functions", () => {
    assert.deepEqual(T.arange(0, 5).toArray(), [0, 1, 2, 3, 4]);
    assert.equal(T.arange(0, 5).dtype, "int64");
    assert.deepEqual(T.arange(0, 1, 0.25).toArray(), [0, 0.25, 0.5, 0.75]);
    assert.deepEqual(T.full([2], 7).toArray(), [7, 7]);
    assert.deepEqual(T.eye(2).toArray(), [1, 0, 0, 1]);
    assert.deepEqual(T.linspace(0, 1, 3).toArray(), [0, 0.5, 1]);
    assert.deepEqual(T.zerosLike(T.ones([2, 2])).shape, [2, 2]);
    const p = T.randperm(10)
      .toArray()
      .sort((a, b) => a - b);
    assert.deepEqual(p, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("views share memory; contiguous and channels-last copy", () => {
    const a = T.arange(0, 24, 1, { dtype: "float32" }).reshape(2, 3, 2, 2);
    const v = a.view(6, 4);
    assert.equal(v.dataPtr, a.dataPtr);
    const tr = a.transpose(0, 1);
    assert.equal(tr.isContiguous(), false);
    assert.deepEqual(tr.strides, [4, 12, 2, 1]);
    const cl = a.channelsLast();
    assert.deepEqual(cl.strides, [12, 1, 6, 3]);
    assert.equal(cl.isContiguous("channelsLast"), true);
    assert.deepEqual(cl.toArray(), a.toArray(), "same logical values");
    assert.equal(a.narrow(1, 1, 1).storageOffset, 4);
  });

  it("zero-copy dataView writes through to the tensor", () => {
    const t = T.zeros([3]);
    const view = new Float32Array(t.dataView());
    view[1] = 5;
    assert.deepEqual(t.toArray(), [0, 5, 0]);
  });

  it("gradients: backward with a gradient argument, accumulation, detach", () => {
    const x = T.fromArray([1, 2, 3]).requiresGrad_();
    const y = x.mul(x); // dy/dx = 2x
    y.backward(T.fromArray([1, 1, 0.5]), { retainGraph: true });
    assert.deepEqual(x.grad!.toArray(), [2, 4, 3]);
    y.backward(T.fromArray([1, 1, 0.5]));
    assert.deepEqual(x.grad!.toArray(), [4, 8, 6], "accumulated");
    assert.equal(y.gradFn, "MulBackward0");
    assert.equal(y.isLeaf, false);
    assert.equal(y.detach().requiresGrad, false);
    x.grad = null;
    assert.equal(x.grad, null);
  });

  it("noGrad, enableGrad and inferenceMode", () => {
    const x = T.ones([2]).requiresGrad_();
    const a = T.noGrad(() => x.mul(2));
    assert.equal(a.requiresGrad, false);
    const b = T.noGrad(() => T.enableGrad(() => x.mul(2)));
    assert.equal(b.requiresGrad, true);
    assert.equal(T.isGradEnabled(), true);
    const c = T.inferenceMode(() => x.mul(2));
    assert.equal(c.requiresGrad, false);
    assert.throws(
      () =>
        T.noGrad(() => x.mul(2))
          .requiresGrad_(true)
          .mul(c)
          .sum()
          .backward(),
      /inference/i,
    );
  });

  it("indexing: select, slices, advanced", () => {
    const a = T.arange(0, 12).reshape(3, 4);
    assert.deepEqual(a.index(1).toArray(), [4, 5, 6, 7]);
    assert.deepEqual(a.index(null, [1, 3]).toArray(), [1, 2, 5, 6, 9, 10]);
    assert.deepEqual(a.index([null, null, 2], 0).toArray(), [0, 8]);
    const idx = T.fromArray(new BigInt64Array([2n, 0n]));
    assert.deepEqual(a.index(idx, 3).toArray(), [11, 3]);
    const [v, i] = T.fromArray([3, 1, 2]).sort();
    assert.deepEqual(
      [v.toArray(), i.toArray()],
      [
        [1, 2, 3],
        [1, 2, 0],
      ],
    );
  });

  it("threads default to the core count and are settable", async () => {
    const { availableParallelism } = await import("node:os");
    const n = T.getNumThreads();
    assert.equal(n, T.defaultThreadCount());
    assert.equal(
      T.defaultThreadCount(),
      Number(process.env.KDEP_NUM_THREADS) || availableParallelism(),
    );
    T.setNumThreads(1);
    assert.equal(T.getNumThreads(), 1);
    T.setNumThreads(n);
    assert.throws(() => T.setNumThreads(0), /positive thread count/);
  });

  it("the addon reports the libtorch it was built against", () => {
    const v = native.version();
    assert.match(v.libtorch ?? "", /^\d+\.\d+\.\d+$/);
    assert.match(v.parallel, /at::get_num_threads\(\) : \d+/);
  });

  it("the RNG state can be saved and restored", () => {
    T.manualSeed(9);
    const s = T.getRngState();
    const a = T.randn([4]).toArray();
    T.setRngState(s);
    assert.deepEqual(T.randn([4]).toArray(), a);
  });
});
