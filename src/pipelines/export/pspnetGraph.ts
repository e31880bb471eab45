// PSPNet's forward (models/pspnet.ts) as ONNX nodes for one fixed input size. ONNX has no
// adaptive pooling, so each pyramid bin is written for the feature map that size gives:
// GlobalAveragePool for the 1×1 bin, AveragePool when the bins divide the map evenly, and
// otherwise a constant pooling matrix (MatMul over the flattened map) holding torch's
// adaptive-pool windows [floor(i·h/b), ceil((i+1)·h/b)). The bilinear upsampling
// (align_corners=True in kdep and semseg) is Resize with coordinate_transformation_mode
// "align_corners"; its target sizes keep the symbolic batch (Shape → Concat).

import type { PSPNet } from "../../models/pspnet.js";
import { BasicBlock, Bottleneck } from "../../models/resnet.js";
import type { BatchNorm2d } from "../../nn/batchnorm.js";
import type { AdaptiveAvgPool2d, Sequential } from "../../nn/layers.js";
import type { Conv2d } from "../../nn/linear.js";
import type { Module } from "../../nn/module.js";
import { noGrad, tidy, zeros } from "../../tensor/index.js";
import type { OnnxEmitter } from "./emitter.js";
import { convBn, mobilenetBody, resnetBlock } from "./graphs.js";

/** The PSPNet's backbone stages in forward order (as PSPNet builds them). */
function stages(m: PSPNet): Sequential[] {
  const names =
    m.backboneName === "mobilenet_v2"
      ? ["features"]
      : ["layer0", "layer1", "layer2", "layer3", "layer4"];
  return names.map((n) => {
    const s = m.getModule(n);
    if (!s) throw new Error(`internal error: PSPNet has no ${n}`);
    return s as Sequential;
  });
}

/** Height and width of the map the pyramid pools, for an input of `size` (one dry run). */
export function pspFeatureSize(m: PSPNet, size: [number, number]): [number, number] {
  const device = m.parameters()[0]?.device ?? "cpu";
  return tidy(() =>
    noGrad(() => {
      let y = zeros([1, 3, ...size], { device });
      for (const s of stages(m)) y = s.forward(y);
      return [y.size(2), y.size(3)] as [number, number];
    }),
  );
}

/** torch's adaptive average pooling of an h×w map to b×b as an [h·w, b·b] matrix. */
export function adaptivePoolMatrix(h: number, w: number, b: number): Float32Array {
  const p = new Float32Array(h * w * b * b);
  const win = (i: number, n: number) => [Math.floor((i * n) / b), Math.ceil(((i + 1) * n) / b)];
  for (let i = 0; i < b; i++) {
    const [y0, y1] = win(i, h);
    for (let j = 0; j < b; j++) {
      const [x0, x1] = win(j, w);
      const v = 1 / ((y1 - y0) * (x1 - x0));
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) p[(y * w + x) * b * b + i * b + j] = v;
    }
  }
  return p;
}

function floatConst(e: OnnxEmitter, name: string, dims: number[], v: Float32Array): string {
  const data = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return e.graph.initializer({ name, dtype: "float32", dims, data });
}

/** Adaptive average pooling of x (map h×w) to b×b, named `name`. */
function adaptivePool(e: OnnxEmitter, x: string, name: string, map: [number, number], b: number) {
  const [h, w] = map;
  if (b === 1) return e.graph.node("GlobalAveragePool", name, [x]);
  if (h % b === 0 && w % b === 0) {
    return e.graph.node("AveragePool", name, [x], {
      kernel_shape: [h / b, w / b],
      strides: [h / b, w / b],
    });
  }
  const flat = e.graph.node("Reshape", `${name}.flatten`, [
    x,
    e.graph.int64s(`${name}.flat_shape`, [0, 0, -1]),
  ]);
  const mat = floatConst(e, `${name}.matrix`, [h * w, b * b], adaptivePoolMatrix(h, w, b));
  const pooled = e.graph.node("MatMul", `${name}.matmul`, [flat, mat]);
  return e.graph.node("Reshape", name, [pooled, e.graph.int64s(`${name}.shape`, [0, 0, b, b])]);
}

/** Bilinear (align_corners) resize of x's last two dims to `size`, batch and channels kept. */
function resizeTo(e: OnnxEmitter, x: string, name: string, size: [number, number]): string {
  const nc = e.graph.node("Shape", `${name}.nc`, [x], { start: 0, end: 2 });
  const hw = e.graph.int64s(`${name}.hw`, size);
  const sizes = e.graph.node("Concat", `${name}.sizes`, [nc, hw], { axis: 0 });
  return e.graph.node("Resize", name, [x, "", "", sizes], {
    mode: "linear",
    coordinate_transformation_mode: "align_corners",
  });
}

/** The conv → BN → ReLU → (dropout: identity) → conv classifier. */
function head(e: OnnxEmitter, h: Sequential, x: string): string {
  const [c0, bn, , , c4] = h.layers as [Conv2d, BatchNorm2d, Module, Module, Conv2d];
  const y = e.relu(convBn(e, c0, bn, x), `${e.nameOf(h)}.2`);
  return e.conv(c4, y);
}

/** Emits the PSPNet's eval forward for inputs of `size`; returns the logits [N, K, H, W]. */
export function pspnetGraph(
  e: OnnxEmitter,
  m: PSPNet,
  input: string,
  size: [number, number],
): string {
  const map = pspFeatureSize(m, size);
  let y = input;
  if (m.backboneName === "mobilenet_v2") {
    y = mobilenetBody(e, m.getModule("features") as Sequential, y);
  } else {
    const [conv1, bn1] = (m.getModule("layer0") as Sequential).layers as [Conv2d, BatchNorm2d];
    y = e.maxPool(e.relu(convBn(e, conv1, bn1, y), "layer0.2"), "layer0.3", 3, 2, 1);
    for (const s of ["layer1", "layer2", "layer3", "layer4"]) {
      for (const b of (m.getModule(s) as Sequential).layers) {
        if (!(b instanceof BasicBlock || b instanceof Bottleneck))
          throw new Error(`internal error: unexpected layer in PSPNet's ${s}`);
        y = resnetBlock(e, b, y);
      }
    }
  }
  const branches = [y];
  [...m.ppm.features].forEach((branch, i) => {
    const p = `ppm.features.${i}`;
    const [pool, conv, bn] = branch.layers as [AdaptiveAvgPool2d, Conv2d, BatchNorm2d];
    const bin = pool.outputSize;
    if (typeof bin !== "number") throw new Error(`${p}: kdep's PSPNet pools to square bins`);
    const pooled = adaptivePool(e, y, `${p}.0`, map, bin);
    const z = e.relu(convBn(e, conv, bn, pooled), `${p}.3`);
    branches.push(resizeTo(e, z, `${p}.up`, map));
  });
  const cat = e.graph.node("Concat", "ppm.cat", branches, { axis: 1 });
  return resizeTo(e, head(e, m.cls, cat), "logits", size);
}
