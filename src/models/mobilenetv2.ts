// MobileNetV2 with torchvision's topology, keys and init (torchvision/models/mobilenetv2.py):
// features.0 = conv3×3/2 + BN + ReLU6, features.1–17 inverted residuals, features.18 =
// 1×1 conv → last channel + BN + ReLU6, classifier = [Dropout(0.2), Linear]. The KDEP
// reference's layout (CVMI-Lab/KDEP src/mobilenet.py) is reached through mobilenetv2Keys.ts.
import { BatchNorm2d } from "../nn/batchnorm.js";
import * as init from "../nn/init.js";
import { Dropout, Sequential } from "../nn/layers.js";
import { Conv2d, Linear } from "../nn/linear.js";
import { type Layer, Module } from "../nn/module.js";
import { callAtenInPlace } from "../tensor/opTable.js";
import type { Tensor } from "../tensor/tensor.js";
import type { BackboneApi, FeatureInfo, FeatureMaps, HeadOptions } from "./backbone.js";
import { convertToChannelsLast, inputFormat, poolAndClassify } from "./common.js";

/** Options of {@link MobileNetV2} (and of {@link createModel} for `mobilenet_v2`). */
export interface MobileNetV2Options {
  /** Classifier outputs; 0 or null builds no head (forward returns the pooled feature). */
  numClasses?: number | null;
  /** Skip the ReLU6 after the final 1×1 conv + BN (KDEP's 1280-d pre-ReLU feature). */
  preReluFeature?: boolean;
  /** Channel multiplier; channels rounded to multiples of roundNearest (torchvision). */
  widthMult?: number;
  roundNearest?: number;
  /** Dropout before the classifier (torchvision: 0.2). */
  dropout?: number;
  channelsLast?: boolean;
}

/** torchvision's _make_divisible (from the TF reference): nearest multiple, never −10%. */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let n = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** Conv → BN → in-place ReLU6 under torchvision's Conv2dNormActivation keys (0: conv, 1: bn;
 * the activation "2" holds no state). */
export class ConvBnAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  act = true;
  constructor(cin: number, cout: number, kernel: number, stride = 1, groups = 1) {
    super();
    const padding = (kernel - 1) >> 1;
    this.conv = this.registerModule(
      "0",
      new Conv2d(cin, cout, kernel, { stride, padding, groups, bias: false }),
    );
    this.bn = this.registerModule("1", new BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    const c = this.conv.forward(x);
    const y = this.bn.forward(c);
    if (y !== c) c.dispose(); // a folded BN (src/models/fold.ts) returns its input
    if (this.act) callAtenInPlace("hardtanh_", y.handle, 0, 6);
    return y;
  }
}

export class InvertedResidual extends Module {
  readonly conv: Sequential;
  readonly useResConnect: boolean;
  constructor(
    inp: number,
    oup: number,
    readonly stride: number,
    expandRatio: number,
  ) {
    super();
    if (stride !== 1 && stride !== 2) throw new Error(`stride should be 1 or 2, got ${stride}`);
    const hidden = Math.round(inp * expandRatio);
    this.useResConnect = stride === 1 && inp === oup;
    const layers: Layer[] = [];
    if (expandRatio !== 1) layers.push(new ConvBnAct(inp, hidden, 1));
    layers.push(
      new ConvBnAct(hidden, hidden, 3, stride, hidden),
      new Conv2d(hidden, oup, 1, { bias: false }),
      new BatchNorm2d(oup),
    );
    this.conv = this.registerModule("conv", new Sequential(...layers));
  }
  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    // In place on the last BN's output: BN's backward does not need it.
    return this.useResConnect ? y.add_(x) : y;
  }
}

/** t (expansion), c (channels), n (repeats), s (stride of the first repeat). */
export const INVERTED_RESIDUAL_SETTING: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** MobileNetV2 with torchvision's topology, state-dict keys and initialisation. */
export class MobileNetV2 extends Module implements BackboneApi {
  /** The `features` Sequential of torchvision (a method of the same name returns the maps). */
  readonly body: Sequential;
  classifier: Sequential | null = null;
  readonly featureDim: number;
  readonly featureInfo: readonly FeatureInfo[];
  readonly channelsLast: boolean;
  readonly dropout: number;
  /** features index whose output is each named map (last index at that stride). */
  readonly #taps: Record<"stem" | "layer1" | "layer2" | "layer3" | "lastBlock", number>;

  constructor(opts: MobileNetV2Options = {}) {
    super();
    const width = opts.widthMult ?? 1;
    const round = opts.roundNearest ?? 8;
    let cin = makeDivisible(32 * width, round);
    this.featureDim = makeDivisible(1280 * Math.max(1, width), round);
    const feats: Layer[] = [new ConvBnAct(3, cin, 3, 2)];
    const strides = [2];
    const chans = [cin];
    let stride = 2;
    for (const [t, c, n, s] of INVERTED_RESIDUAL_SETTING) {
      const cout = makeDivisible(c * width, round);
      for (let i = 0; i < n; i++) {
        feats.push(new InvertedResidual(cin, cout, i === 0 ? s : 1, t));
        if (i === 0) stride *= s;
        strides.push(stride);
        chans.push(cout);
        cin = cout;
      }
    }
    feats.push(new ConvBnAct(cin, this.featureDim, 1));
    this.body = this.registerModule("features", new Sequential(...feats));
    const lastAt = (s: number) => strides.lastIndexOf(s);
    this.#taps = {
      stem: lastAt(2),
      layer1: lastAt(4),
      layer2: lastAt(8),
      layer3: lastAt(16),
      lastBlock: feats.length - 2,
    };
    this.featureInfo = [
      ...(["stem", "layer1", "layer2", "layer3"] as const).map((name) => ({
        name,
        channels: chans[this.#taps[name]],
        stride: strides[this.#taps[name]],
      })),
      { name: "lastBlock", channels: cin, stride },
      { name: "layer4", channels: this.featureDim, stride },
    ];
    this.dropout = opts.dropout ?? 0.2;
    const n = opts.numClasses === undefined ? 1000 : (opts.numClasses ?? 0);
    if (n > 0) this.classifier = this.registerModule("classifier", this.#head(n));

    // torchvision's init loop (kaiming_normal fan_out with the default gain √2 = ReLU's).
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        init.kaimingNormal_(m.weight, { mode: "fan_out" });
        if (m.bias) init.zeros_(m.bias);
      } else if (m instanceof BatchNorm2d) {
        init.ones_(m.getParameter("weight")!);
        init.zeros_(m.getParameter("bias")!);
      } else if (m instanceof Linear) {
        init.normal_(m.weight, 0, 0.01);
        if (m.bias) init.zeros_(m.bias);
      }
    }
    this.preReluFeature = opts.preReluFeature ?? false;
    this.channelsLast = opts.channelsLast ?? false;
    if (this.channelsLast) convertToChannelsLast(this);
  }

  #head(n: number): Sequential {
    return new Sequential(new Dropout(this.dropout), new Linear(this.featureDim, n));
  }

  get fc(): Linear | null {
    return (this.classifier?.at(1) as Linear | undefined) ?? null;
  }
  get numClasses(): number {
    return this.fc?.outFeatures ?? 0;
  }

  get preReluFeature(): boolean {
    return !(this.body.at(-1) as ConvBnAct).act;
  }
  set preReluFeature(on: boolean) {
    (this.body.at(-1) as ConvBnAct).act = !on;
  }

  forwardFeatures(x: Tensor): Tensor {
    const input = inputFormat(x, this.channelsLast);
    const y = this.body.forward(input);
    if (input !== x) input.dispose();
    return y;
  }

  forwardHead(map: Tensor, opts: HeadOptions = {}): Tensor {
    if (this.classifier === null || opts.preLogits) return poolAndClassify(map, null);
    const pooled = poolAndClassify(map, null);
    const out = this.classifier.forward(pooled);
    pooled.dispose();
    return out;
  }

  forward(x: Tensor): Tensor {
    const map = this.forwardFeatures(x);
    const out = this.forwardHead(map);
    map.dispose();
    return out;
  }

  /** Maps at strides 2/4/8/16/32 (the taps of Detectron2-style FPNs on features 3/6/13/17). */
  features(x: Tensor): FeatureMaps {
    const input = inputFormat(x, this.channelsLast);
    const keepAt = new Map(Object.entries(this.#taps).map(([k, i]) => [i, k]));
    const out: Record<string, Tensor> = {};
    let y = input;
    this.body.layers.forEach((layer, i) => {
      const next = layer.forward(y);
      const prevKept = keepAt.has(i - 1);
      if (y !== x && !prevKept) y.dispose();
      y = next;
      const name = keepAt.get(i);
      if (name) out[name] = y;
    });
    out.layer4 = y;
    out.pooled = this.forwardHead(y, { preLogits: true });
    return out as FeatureMaps;
  }

  resetClassifier(numClasses: number): void {
    this.classifier?.dispose();
    this.classifier = null;
    if (numClasses > 0) {
      this.classifier = this.registerModule("classifier", this.#head(numClasses));
    } else if (this.getModule("classifier")) {
      this.registerModule("classifier", new Module());
    }
  }
}

/** Builds a {@link MobileNetV2}. */
export const mobilenetV2 = (opts?: MobileNetV2Options) => new MobileNetV2(opts);
