// Mixed precision on the CPU: autocast reaches the dispatcher, --amp is refused where it
// cannot run well, and the float16 loss scaler skips non-finite steps. (CUDA autocast and
// fp16 training use the same code paths but were not run here: no GPU.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createModel } from "../../src/models/registry.js";
import { GradScaler, SGD } from "../../src/optim/index.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import * as T from "../../src/tensor/index.js";

const AVX2_ONLY = "processor : 0\nflags\t\t: fpu sse2 avx avx2 fma\n";
const WITH_BF16 = "processor : 0\nflags\t\t: fpu sse2 avx avx2 avx512f avx512_bf16\n";

describe("autocast", () => {
  it("runs eligible ops in bf16 inside, float32 outside, and restores after a throw", () => {
    T.tidy(() => {
      const a = T.randn([4, 8]);
      const b = T.randn([8, 3]);
      assert.equal(T.withAutocast("cpu", "bfloat16", () => a.matmul(b)).dtype, "bfloat16");
      const nested = T.withAutocast("cpu", "bfloat16", () =>
        T.withAutocast("cpu", "bfloat16", () => a.matmul(b)),
      );
      assert.equal(nested.dtype, "bfloat16");
      assert.throws(() =>
        T.withAutocast("cpu", "bfloat16", () => {
          throw new Error("inside");
        }),
      );
      assert.equal(a.matmul(b).dtype, "float32");
      // The bf16 product is the float32 one to bf16 precision (8 significant bits).
      const exact = a.matmul(b);
      const low = T.withAutocast("cpu", "bfloat16", () => a.matmul(b)).float();
      assert.ok(low.sub(exact).abs().max().item() < 0.05 * exact.abs().max().item());
    });
  });

  it("--amp: fp16 needs CUDA, bf16 on a CPU needs native bf16 instructions", () => {
    assert.equal(T.resolveAmp(undefined, "cpu"), undefined);
    assert.deepEqual(T.resolveAmp("fp16", "cuda:1"), { device: "cuda", dtype: "float16" });
    assert.deepEqual(T.resolveAmp("bf16", "cuda:0"), { device: "cuda", dtype: "bfloat16" });
    assert.deepEqual(T.resolveAmp("bf16", "cpu", WITH_BF16), { device: "cpu", dtype: "bfloat16" });
    assert.throws(() => T.resolveAmp("fp16", "cpu", WITH_BF16), /fp16 needs a CUDA device/);
    assert.throws(
      () => T.resolveAmp("bf16", "cpu", AVX2_ONLY),
      /no avx512_bf16\/amx_bf16 in \/proc\/cpuinfo.*no bf16 convolution/,
    );
    assert.equal(T.cpuHasNativeBf16(AVX2_ONLY), false);
  });

  it("a KDEP step under bf16 autocast (where the CPU has it) gives the float32 loss to 2%", () => {
    if (!T.cpuHasNativeBf16()) {
      assert.throws(() => T.resolveAmp("bf16", "cpu"), /is refused/);
      return;
    }
    const losses = ["fp32", "bf16"].map((mode) =>
      T.tidy(() => {
        T.manualSeed(3);
        const teacher = createModel("resnet18", { numClasses: 0, width: 8 });
        const student = createModel("resnet18", { numClasses: 0, width: 4 });
        const basis = { V: T.randn([64, 64]).div(8), mean: T.zeros([64]) };
        const align = new SvdAlignment(basis, 32, 3, { temperature: 0.1, power: 3 });
        const amp = mode === "bf16" ? T.resolveAmp("bf16", "cpu") : undefined;
        const d = new Distiller(teacher, student, align, { amp });
        d.train();
        const opt = new SGD(d.parameters(), { lr: 0.01 });
        const x = T.randn([4, 3, 32, 32]);
        return d.step(x, T.zeros([4], { dtype: "int64" }), opt).feature;
      }),
    );
    const rel = Math.abs(losses[1] - losses[0]) / losses[0];
    console.log(`fp32 loss ${losses[0]}, bf16 ${losses[1]} (relative ${rel.toExponential(2)})`);
    assert.ok(rel < 0.02 && rel > 0, `relative difference ${rel}`);
  });
});

describe("GradScaler", () => {
  const setup = () => {
    const p = T.keep(T.fromArray(new Float32Array([1, 2, 3]), [3]).requiresGrad_(true));
    return { p, opt: new SGD([p], { lr: 0.5 }) };
  };

  it("unscales exactly and steps on finite gradients; grows the scale after the interval", () => {
    const { p, opt } = setup();
    const s = new GradScaler({ initScale: 1024, growthInterval: 2 });
    T.tidy(() =>
      s.scaleLoss(p.mul(T.fromArray(new Float32Array([1, -2, 4]), [3])).sum()).backward(),
    );
    assert.equal(s.step(opt), true);
    assert.deepEqual(p.toArray(), [1 - 0.5, 2 + 1, 3 - 2]);
    assert.equal(s.scale, 1024);
    opt.zeroGrad();
    T.tidy(() => s.scaleLoss(p.sum()).backward());
    s.step(opt);
    assert.equal(s.scale, 2048);
  });

  it("skips a step with inf/NaN gradients and halves the scale", () => {
    const { p, opt } = setup();
    const s = new GradScaler({ initScale: 1024 });
    T.tidy(() =>
      s
        .scaleLoss(
          p.mul(T.fromArray(new Float32Array([1, Number.POSITIVE_INFINITY, 1]), [3])).sum(),
        )
        .backward(),
    );
    assert.equal(s.step(opt), false);
    assert.deepEqual(p.toArray(), [1, 2, 3]);
    assert.equal(s.scale, 512);
  });
});
