// The forward passes of the zoo's networks written as ONNX nodes, mirroring each model's
// forward() (resnet.ts, mobilenetv2.ts) layer for layer. A new network is one more entry in
// ONNX_GRAPHS. PSPNet (pspnetGraph.ts) reuses the block emitters exported here.

import { ConvBnAct, type InvertedResidual, MobileNetV2 } from "../../models/mobilenetv2.js";
import { type BasicBlock, Bottleneck, ResNet } from "../../models/resnet.js";
import type { BatchNorm2d } from "../../nn/batchnorm.js";
import type { Sequential } from "../../nn/layers.js";
import { Conv2d } from "../../nn/linear.js";
import type { Module } from "../../nn/module.js";
import type { OnnxEmitter } from "./emitter.js";

/** One exportable network: recognises its models and emits input → layer4 map. */
export interface OnnxGraphEntry {
  name: string;
  matches(m: Module): boolean;
  /** Emits the body (input → last feature map), returns the map's value name. */
  features(e: OnnxEmitter, m: Module, input: string): string;
  /** The classifier applied to the pooled feature, or null when the model has none. */
  classifier(e: OnnxEmitter, m: Module, pooled: string): string | null;
}

export function convBn(e: OnnxEmitter, conv: Conv2d, bn: BatchNorm2d, x: string): string {
  return e.batchNorm(bn, e.conv(conv, x));
}

export function resnetBlock(e: OnnxEmitter, b: BasicBlock | Bottleneck, x: string): string {
  const p = e.nameOf(b);
  let y = e.relu(convBn(e, b.conv1, b.bn1, x), `${p}.relu1`);
  if (b instanceof Bottleneck) {
    y = e.relu(convBn(e, b.conv2, b.bn2, y), `${p}.relu2`);
    y = convBn(e, b.conv3, b.bn3, y);
  } else {
    y = convBn(e, b.conv2, b.bn2, y);
  }
  let identity = x;
  if (b.downsample) {
    const [dc, dbn] = b.downsample.layers as [Conv2d, BatchNorm2d];
    identity = convBn(e, dc, dbn, x);
  }
  const sum = e.add(y, identity, `${p}.add`);
  return b.finalRelu ? e.relu(sum, `${p}.relu`) : sum;
}

const resnetEntry: OnnxGraphEntry = {
  name: "ResNet",
  matches: (m) => m instanceof ResNet,
  features(e, m, input) {
    const r = m as ResNet;
    let y = e.relu(convBn(e, r.conv1, r.bn1, input), "relu");
    y = e.maxPool(y, "maxpool", 3, 2, 1);
    for (const b of r.blocks()) y = resnetBlock(e, b, y);
    return y;
  },
  classifier: (e, m, pooled) => {
    const fc = (m as ResNet).fc;
    return fc ? e.linear(fc, pooled) : null;
  },
};

export function convBnAct(e: OnnxEmitter, c: ConvBnAct, x: string): string {
  const y = convBn(e, c.conv, c.bn, x);
  return c.act ? e.relu6(y, `${e.nameOf(c)}.2`) : y;
}

export function invertedResidual(e: OnnxEmitter, block: InvertedResidual, x: string): string {
  let y = x;
  const layers = (block.conv as Sequential).layers;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l instanceof ConvBnAct) y = convBnAct(e, l, y);
    else if (l instanceof Conv2d) y = convBn(e, l, layers[++i] as BatchNorm2d, y);
    else throw new Error(`internal error: unexpected layer in ${e.nameOf(block)}`);
  }
  return block.useResConnect ? e.add(y, x, `${e.nameOf(block)}.add`) : y;
}

/** MobileNetV2's `features` (stem, inverted residuals, last 1×1 conv). */
export function mobilenetBody(e: OnnxEmitter, body: Sequential, input: string): string {
  let y = input;
  for (const l of body.layers) {
    y = l instanceof ConvBnAct ? convBnAct(e, l, y) : invertedResidual(e, l as InvertedResidual, y);
  }
  return y;
}

const mobilenetEntry: OnnxGraphEntry = {
  name: "MobileNetV2",
  matches: (m) => m instanceof MobileNetV2,
  features: (e, m, input) => mobilenetBody(e, (m as MobileNetV2).body, input),
  // Dropout is the identity at inference: only the Linear is emitted.
  classifier: (e, m, pooled) => {
    const fc = (m as MobileNetV2).fc;
    return fc ? e.linear(fc, pooled) : null;
  },
};

export const ONNX_GRAPHS: readonly OnnxGraphEntry[] = [resnetEntry, mobilenetEntry];
