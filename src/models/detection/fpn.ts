// torchvision's FeaturePyramidNetwork with LastLevelMaxPool, and the backbones it sits
// on: resnet_fpn_backbone's layout (body = the ResNet without its classifier, fpn =
// lateral 1×1 and output 3×3 convs, keys inner_blocks.i.0 / layer_blocks.i.0) and
// MobileNetV2 tapped after features 3/6/13/17 (strides 4/8/16/32).
import { interpolate, maxPool2d } from "../../nn/functional.js";
import * as init from "../../nn/init.js";
import { ModuleList, Sequential } from "../../nn/layers.js";
import { Conv2d } from "../../nn/linear.js";
import { Module } from "../../nn/module.js";
import type { Tensor } from "../../tensor/index.js";
import { MobileNetV2 } from "../mobilenetv2.js";
import { type ResNet, resnet } from "../resnet.js";
import { resnetStem } from "./c4.js";

export class FeaturePyramidNetwork extends Module {
  readonly inner: ModuleList<Sequential>;
  readonly layer: ModuleList<Sequential>;

  constructor(
    inChannels: readonly number[],
    readonly outChannels: number,
  ) {
    super();
    this.inner = this.registerModule(
      "inner_blocks",
      new ModuleList(inChannels.map((c) => new Sequential(new Conv2d(c, outChannels, 1)))),
    );
    this.layer = this.registerModule(
      "layer_blocks",
      new ModuleList(
        inChannels.map(
          () => new Sequential(new Conv2d(outChannels, outChannels, 3, { padding: 1 })),
        ),
      ),
    );
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        init.kaimingUniform_(m.weight, { a: 1 });
        init.zeros_(m.bias!);
      }
    }
  }

  /** Maps fine to coarse → one map per input plus the max-pooled "pool" level. */
  forward(x: readonly Tensor[]): Tensor[] {
    const n = x.length;
    const inner = (i: number) => (this.inner.getModule(String(i)) as Sequential).forward(x[i]);
    const layer = (i: number, t: Tensor) =>
      (this.layer.getModule(String(i)) as Sequential).forward(t);
    let last = inner(n - 1);
    const out = [layer(n - 1, last)];
    for (let i = n - 2; i >= 0; i--) {
      const lateral = inner(i);
      const td = interpolate(last, { size: [lateral.size(2), lateral.size(3)], mode: "nearest" });
      last = lateral.add(td);
      out.unshift(layer(i, last));
    }
    out.push(maxPool2d(out[n - 1], 1, { stride: 2, padding: 0 }));
    return out;
  }
}

/** A backbone for detection: maps fine to coarse, all with `outChannels` channels. */
export interface DetectionBackbone extends Module {
  readonly outChannels: number;
  /** The classification network whose checkpoints load here (the student's keys). */
  readonly trunk: Module;
  forward(x: Tensor): Tensor[];
}

/** A channel count of the detector at ResNet base width `width` (the reference's at 64). */
export const scaledChannels = (channels: number, width?: number) =>
  width === undefined ? channels : Math.max(8, Math.round((channels * width) / 64));

export class ResNetFpn extends Module implements DetectionBackbone {
  readonly body: ResNet;
  readonly fpn: FeaturePyramidNetwork;
  readonly outChannels: number;

  /** `width`: the ResNet's base width (64); the pyramid's 256 channels scale with it. */
  constructor(name: "resnet18" | "resnet50" | "resnet34" | "resnet101", width?: number) {
    super();
    this.body = this.registerModule("body", resnet(name, { numClasses: 0, width }));
    const c = this.body.featureDim;
    this.outChannels = scaledChannels(256, width);
    this.fpn = this.registerModule(
      "fpn",
      new FeaturePyramidNetwork([c / 8, c / 4, c / 2, c], this.outChannels),
    );
  }

  get trunk(): ResNet {
    return this.body;
  }

  forward(x: Tensor): Tensor[] {
    const maps: Tensor[] = [];
    let y = resnetStem(this.body, x);
    for (const l of this.body.layers) {
      y = l.forward(y);
      maps.push(y);
    }
    return this.fpn.forward(maps);
  }
}

export const MOBILENET_TAPS = [3, 6, 13, 17] as const;

export class MobileNetV2Fpn extends Module implements DetectionBackbone {
  readonly body: Sequential;
  readonly fpn: FeaturePyramidNetwork;
  readonly outChannels = 256;

  /** The whole MobileNetV2 (its features beyond 17 unused), sharing the body's layers. */
  readonly trunk: MobileNetV2;

  constructor() {
    super();
    const m = new MobileNetV2({ numClasses: 0 });
    this.trunk = m;
    const layers = Array.from({ length: MOBILENET_TAPS[3] + 1 }, (_, i) => m.body.at(i));
    this.body = this.registerModule("body", new Sequential(...layers));
    this.fpn = this.registerModule("fpn", new FeaturePyramidNetwork([24, 32, 96, 320], 256));
  }

  forward(x: Tensor): Tensor[] {
    const maps: Tensor[] = [];
    let y = x;
    for (let i = 0; i <= MOBILENET_TAPS[3]; i++) {
      y = this.body.at(i).forward(y);
      if ((MOBILENET_TAPS as readonly number[]).includes(i)) maps.push(y);
    }
    return this.fpn.forward(maps);
  }
}
