// Shared by the ONNX export tests: ONNX Runtime (onnxruntime-node, CPU) runs a file, the
// relative error at the output's scale, and Debian's python3-onnx full checker.
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { BatchNorm2d } from "../../src/nn/batchnorm.js";
import type { Module } from "../../src/nn/module.js";
import { noGrad, randn, type Tensor } from "../../src/tensor/index.js";
import { pythonHas, runPython } from "../helpers/python.js";

/** Non-trivial BN statistics and affine terms, so a mistake in BN's export shows. */
export function randomiseBn(m: Module): void {
  noGrad(() => {
    for (const mod of m.modules()) {
      if (!(mod instanceof BatchNorm2d)) continue;
      const c = mod.numFeatures;
      mod.getBuffer("running_mean")!.copy_(randn([c]).mul_(0.1));
      mod.getBuffer("running_var")!.copy_(randn([c]).abs().add_(0.5));
      mod.getParameter("weight")!.copy_(randn([c]).mul_(0.2).add_(1));
      mod.getParameter("bias")!.copy_(randn([c]).mul_(0.1));
    }
  });
}

export async function runOrt(file: string, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const input = new ort.Tensor("float32", x.toTypedArray() as Float32Array, x.shape);
    const out = await session.run({ [session.inputNames[0]]: input });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** max |a − b| / max |b|: the relative error at the output's scale. */
export function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

export const onnxChecker = pythonHas("onnx");

export function checkWithOnnx(file: string): string {
  return runPython(
    "import onnx, sys\n" +
      "m = onnx.load(sys.argv[1])\n" +
      "onnx.checker.check_model(m, full_check=True)\n" +
      "print(m.opset_import[0].version, m.graph.input[0].type.tensor_type.shape.dim[0].dim_param)",
    [file],
  ).trim();
}
