// ResNet-18/34/50/101/152 with torchvision's topology (v1.5: the stride sits on Bottleneck's
// 3×3 conv) and torchvision's state-dict keys and order, so checkpoints move both ways
// unchanged. Construction and init draw from the RNG in torchvision's order: with the same
// seed, the initial weights equal torchvision's.
import { BatchNorm2d } from "../nn/batchnorm.js";
import * as init from "../nn/init.js";
import { MaxPool2d, Sequential } from "../nn/layers.js";
import { Conv2d, Linear } from "../nn/linear.js";
import { type Layer, Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";
import type { BackboneApi, FeatureInfo, FeatureMaps, HeadOptions } from "./backbone.js";
import { convertToChannelsLast, inputFormat, poolAndClassify } from "./common.js";

/** Options of {@link ResNet} (and of {@link createModel} for `resnet*`). */
export interface ResNetOptions {
  /** Classifier outputs; 0 or null builds no head (forward returns the pooled feature). */
  numClasses?: number | null;
  /** Skip the ReLU after the residual addition of layer4's last block (KDEP's feature). */
  preReluFeature?: boolean;
  /**
   * Replace the stride of layer2/3/4 by dilation (output stride 16: [F,F,T]; 8: [F,T,T]).
   * "torchvision" style: a dilated layer's first block keeps the previous dilation (for
   * BasicBlock, which torchvision refuses to dilate, timm's rule: conv1 gets the previous
   * dilation, conv2 the new one). "semseg" style (hszhao/semseg and KDEP's PSPNet): every
   * block's second 3×3 conv gets the layer's full dilation, the first conv of BasicBlock none.
   */
  replaceStrideWithDilation?: [boolean, boolean, boolean];
  dilationStyle?: "torchvision" | "semseg";
  /** Zero γ of each block's last BN, so every residual branch starts as the identity. */
  zeroInitResidual?: boolean;
  /** Keep weights and activations in NHWC memory (oneDNN's preferred layout). */
  channelsLast?: boolean;
  /**
   * Channels of the stem and layer1 (torchvision: 64); every layer scales with it. Narrow
   * networks (e.g. 16) keep the topology and key names for quick experiments such as the demo;
   * only 64 matches published checkpoints.
   */
  width?: number;
}

type BlockKind = "basic" | "bottleneck";

const conv3x3 = (cin: number, cout: number, stride = 1, dilation = 1) =>
  new Conv2d(cin, cout, 3, { stride, padding: dilation, dilation, bias: false });
const conv1x1 = (cin: number, cout: number, stride = 1) =>
  new Conv2d(cin, cout, 1, { stride, bias: false });

/** Adds the shortcut in place, then the final ReLU unless this is the pre-ReLU feature point. */
function residual(out: Tensor, x: Tensor, downsample: Sequential | null, relu: boolean): Tensor {
  const identity = downsample ? downsample.forward(x) : x;
  out.add_(identity);
  if (identity !== x) identity.dispose();
  return relu ? out.relu_() : out;
}

/** conv → BN with the conv output freed at once (BN's backward keeps what it needs); a BN
 *  folded into the conv (src/models/fold.ts) hands back the conv output itself. */
function convBn(conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor {
  const c = conv.forward(x);
  const y = bn.forward(c);
  if (y !== c) c.dispose();
  return y;
}

export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  /** False only on layer4's last block when the model gives the pre-ReLU feature. */
  finalRelu = true;

  constructor(
    inplanes: number,
    planes: number,
    stride: number,
    downsample: Sequential | null,
    dilation1 = 1,
    dilation2 = 1,
  ) {
    super();
    this.conv1 = this.registerModule("conv1", conv3x3(inplanes, planes, stride, dilation1));
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(planes));
    this.conv2 = this.registerModule("conv2", conv3x3(planes, planes, 1, dilation2));
    this.bn2 = this.registerModule("bn2", new BatchNorm2d(planes));
    this.downsample = downsample ? this.registerModule("downsample", downsample) : null;
  }

  forward(x: Tensor): Tensor {
    const a = convBn(this.conv1, this.bn1, x).relu_();
    const out = convBn(this.conv2, this.bn2, a);
    a.dispose();
    return residual(out, x, this.downsample, this.finalRelu);
  }

  get lastBn(): BatchNorm2d {
    return this.bn2;
  }
}

export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;
  finalRelu = true;

  constructor(
    inplanes: number,
    planes: number,
    stride: number,
    downsample: Sequential | null,
    dilation = 1,
  ) {
    super();
    const width = planes;
    this.conv1 = this.registerModule("conv1", conv1x1(inplanes, width));
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(width));
    this.conv2 = this.registerModule("conv2", conv3x3(width, width, stride, dilation));
    this.bn2 = this.registerModule("bn2", new BatchNorm2d(width));
    this.conv3 = this.registerModule("conv3", conv1x1(width, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule("bn3", new BatchNorm2d(planes * Bottleneck.expansion));
    this.downsample = downsample ? this.registerModule("downsample", downsample) : null;
  }

  forward(x: Tensor): Tensor {
    const a = convBn(this.conv1, this.bn1, x).relu_();
    const b = convBn(this.conv2, this.bn2, a).relu_();
    a.dispose();
    const out = convBn(this.conv3, this.bn3, b);
    b.dispose();
    return residual(out, x, this.downsample, this.finalRelu);
  }

  get lastBn(): BatchNorm2d {
    return this.bn3;
  }
}

type Block = BasicBlock | Bottleneck;

/** ResNet-18…152 with torchvision's topology (v1.5), state-dict keys and initialisation. */
export class ResNet extends Module implements BackboneApi {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  readonly layers: [Sequential, Sequential, Sequential, Sequential];
  fc: Linear | null = null;
  readonly featureDim: number;
  readonly featureInfo: readonly FeatureInfo[];
  readonly channelsLast: boolean;
  #inplanes: number;
  #dilation = 1;

  constructor(
    readonly kind: BlockKind,
    readonly depths: readonly [number, number, number, number],
    opts: ResNetOptions = {},
  ) {
    super();
    const dilate = opts.replaceStrideWithDilation ?? [false, false, false];
    if (dilate.length !== 3) {
      throw new Error(
        `replaceStrideWithDilation: expected 3 booleans but received [${dilate.join(", ")}]`,
      );
    }
    const style = opts.dilationStyle ?? "torchvision";
    const w = opts.width ?? 64;
    if (!Number.isInteger(w) || w < 1)
      throw new Error(`width: expected a positive integer, got ${w}`);
    this.#inplanes = w;
    const expansion = kind === "basic" ? BasicBlock.expansion : Bottleneck.expansion;
    this.conv1 = this.registerModule(
      "conv1",
      new Conv2d(3, w, 7, { stride: 2, padding: 3, bias: false }),
    );
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(w));
    let outStride = 4;
    const info: FeatureInfo[] = [
      { name: "stem", channels: w, stride: 2 },
      { name: "layer1", channels: w * expansion, stride: 4 },
    ];
    const layers: Sequential[] = [];
    for (let i = 0; i < 4; i++) {
      const dil = i > 0 && dilate[i - 1];
      if (i > 0 && !dil) outStride *= 2;
      const layer = this.#makeLayer(w << i, depths[i], i === 0 ? 1 : 2, dil, style);
      layers.push(this.registerModule(`layer${i + 1}`, layer));
      if (i > 0)
        info.push({ name: `layer${i + 1}`, channels: (w << i) * expansion, stride: outStride });
    }
    this.layers = layers as [Sequential, Sequential, Sequential, Sequential];
    this.featureDim = (w << 3) * expansion;
    this.featureInfo = info;
    const n = opts.numClasses === undefined ? 1000 : (opts.numClasses ?? 0);
    if (n > 0) this.fc = this.registerModule("fc", new Linear(this.featureDim, n));

    // torchvision's init loop, over modules() in registration order (the same draw order).
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        init.kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
      } else if (m instanceof BatchNorm2d) {
        init.ones_(m.getParameter("weight")!);
        init.zeros_(m.getParameter("bias")!);
      }
    }
    if (opts.zeroInitResidual) {
      for (const b of this.blocks()) init.zeros_(b.lastBn.getParameter("weight")!);
    }
    this.preReluFeature = opts.preReluFeature ?? false;
    this.channelsLast = opts.channelsLast ?? false;
    if (this.channelsLast) convertToChannelsLast(this);
  }

  // torchvision's _make_layer: the downsample is built before the first block (draw order),
  // but registered inside it, after the convs (key order).
  #makeLayer(
    planes: number,
    blocks: number,
    stride: number,
    dilate: boolean,
    style: "torchvision" | "semseg",
  ): Sequential {
    const expansion = this.kind === "basic" ? BasicBlock.expansion : Bottleneck.expansion;
    const previous = this.#dilation;
    if (dilate) {
      this.#dilation *= stride;
      stride = 1;
    }
    const d = this.#dilation;
    let downsample: Sequential | null = null;
    if (stride !== 1 || this.#inplanes !== planes * expansion) {
      downsample = new Sequential(
        conv1x1(this.#inplanes, planes * expansion, stride),
        new BatchNorm2d(planes * expansion),
      );
    }
    const out: Layer[] = [];
    for (let i = 0; i < blocks; i++) {
      const first = style === "torchvision" && i === 0 ? previous : d;
      const s = i === 0 ? stride : 1;
      const ds = i === 0 ? downsample : null;
      out.push(
        this.kind === "basic"
          ? new BasicBlock(this.#inplanes, planes, s, ds, style === "semseg" ? 1 : first, d)
          : new Bottleneck(this.#inplanes, planes, s, ds, first),
      );
      this.#inplanes = planes * expansion;
    }
    return new Sequential(...out);
  }

  /** Every residual block, layer1 first. */
  blocks(): Block[] {
    return this.layers.flatMap((l) => l.layers as Block[]);
  }

  get numClasses(): number {
    return this.fc?.outFeatures ?? 0;
  }

  get preReluFeature(): boolean {
    return !this.#lastBlock().finalRelu;
  }
  set preReluFeature(on: boolean) {
    this.#lastBlock().finalRelu = !on;
  }
  #lastBlock(): Block {
    return this.layers[3].at(-1) as Block;
  }

  #stem(x: Tensor): Tensor {
    const input = inputFormat(x, this.channelsLast);
    const c = this.conv1.forward(input);
    if (input !== x) input.dispose();
    const y = this.bn1.forward(c);
    if (y !== c) c.dispose();
    return y.relu_();
  }

  /** Input [N, 3, H, W] → layer4 map [N, featureDim, H/32, W/32]. */
  forwardFeatures(x: Tensor): Tensor {
    const s = this.#stem(x);
    let y = this.maxpool.forward(s);
    s.dispose();
    for (const layer of this.layers) {
      const next = layer.forward(y);
      y.dispose();
      y = next;
    }
    return y;
  }

  forwardHead(map: Tensor, opts: HeadOptions = {}): Tensor {
    return poolAndClassify(map, this.fc, opts);
  }

  forward(x: Tensor): Tensor {
    const map = this.forwardFeatures(x);
    const out = this.forwardHead(map);
    map.dispose();
    return out;
  }

  features(x: Tensor): FeatureMaps {
    const stem = this.#stem(x);
    const p = this.maxpool.forward(stem);
    const layer1 = this.layers[0].forward(p);
    p.dispose();
    const layer2 = this.layers[1].forward(layer1);
    const layer3 = this.layers[2].forward(layer2);
    const layer4 = this.layers[3].forward(layer3);
    const pooled = this.forwardHead(layer4, { preLogits: true });
    return { stem, layer1, layer2, layer3, layer4, pooled };
  }

  resetClassifier(numClasses: number): void {
    this.fc?.dispose();
    this.fc = null;
    if (numClasses > 0)
      this.fc = this.registerModule("fc", new Linear(this.featureDim, numClasses));
    else if (this.getModule("fc")) this.registerModule("fc", new Module());
  }
}

const DEPTHS = {
  resnet18: ["basic", [2, 2, 2, 2]],
  resnet34: ["basic", [3, 4, 6, 3]],
  resnet50: ["bottleneck", [3, 4, 6, 3]],
  resnet101: ["bottleneck", [3, 4, 23, 3]],
  resnet152: ["bottleneck", [3, 8, 36, 3]],
} as const;

/** The ResNet depths of the zoo. */
export type ResNetName = keyof typeof DEPTHS;

/** Builds the ResNet of the given depth; `resnet18()`… are shorthands. */
export function resnet(name: ResNetName, opts: ResNetOptions = {}): ResNet {
  const [kind, depths] = DEPTHS[name];
  return new ResNet(kind, depths, opts);
}
export const resnet18 = (opts?: ResNetOptions) => resnet("resnet18", opts);
export const resnet34 = (opts?: ResNetOptions) => resnet("resnet34", opts);
export const resnet50 = (opts?: ResNetOptions) => resnet("resnet50", opts);
export const resnet101 = (opts?: ResNetOptions) => resnet("resnet101", opts);
export const resnet152 = (opts?: ResNetOptions) => resnet("resnet152", opts);
