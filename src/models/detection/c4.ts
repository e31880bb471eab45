// The C4 layout (Faster R-CNN as Detectron2's R-C4): the RPN runs on layer3 (stride 16);
// each proposal is pooled from layer3 with RoIAlign (aligned, 14×14, adaptive sampling)
// and goes through the student's own layer4 (stride 2 → 7×7), then a global average.
// Detectron2's reference instead builds a fresh res5 of Bottleneck blocks for every depth.
import { Module } from "../../nn/module.js";
import type { Tensor } from "../../tensor/index.js";
import { roiAlign } from "../../tensor/ops/visionOps.js";
import { type ResNet, resnet } from "../resnet.js";
import type { DetectionBackbone } from "./fpn.js";
import { toRois } from "./poolers.js";

/** conv1 → bn1 → ReLU → max-pool of a ResNet. */
export function resnetStem(r: ResNet, x: Tensor): Tensor {
  return r.maxpool.forward(r.bn1.forward(r.conv1.forward(x)).relu());
}

export class ResNetC4 extends Module implements DetectionBackbone {
  readonly body: ResNet;
  readonly outChannels: number;

  /** `width`: the ResNet's base width (64); narrower students load into narrower trunks. */
  constructor(name: "resnet18" | "resnet50" | "resnet34" | "resnet101", width?: number) {
    super();
    this.body = this.registerModule("body", resnet(name, { numClasses: 0, width }));
    this.outChannels = this.body.featureDim / 2;
  }

  get trunk(): ResNet {
    return this.body;
  }

  /** The layer3 map only (layer4 belongs to the box head). */
  forward(x: Tensor): Tensor[] {
    let y = resnetStem(this.body, x);
    for (let i = 0; i < 3; i++) y = this.body.layers[i].forward(y);
    return [y];
  }
}

/**
 * Pools layer3 for each box and runs layer4 + global average: [K, featureDim]. Holds the
 * backbone's layer4 without registering it, so its weights keep their backbone keys.
 */
export class C4BoxHead {
  readonly outChannels: number;

  constructor(
    readonly backbone: ResNetC4,
    readonly poolSize = 14,
  ) {
    this.outChannels = backbone.body.featureDim;
  }

  forward(features: readonly Tensor[], boxes: readonly Tensor[]): Tensor {
    const pooled = roiAlign(features[0], toRois(boxes), {
      outputSize: [this.poolSize, this.poolSize],
      spatialScale: 1 / 16,
      samplingRatio: 0,
      aligned: true,
    });
    return this.backbone.body.layers[3].forward(pooled).mean([2, 3]);
  }
}

export type { Module };
