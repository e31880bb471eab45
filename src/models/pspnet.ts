// PSPNet (Zhao et al., CVPR 2017) as KDEP's fork of hszhao/semseg builds it for transfer:
//
// - ResNet-18/34/50/101 with torchvision's 7×7 stem and output stride 8: in layer3 and
//   layer4 every block's first conv and downsample get stride 1 and only the 3×3 `conv2`
//   is dilated (2 in layer3, 4 in layer4) — the ResNet "semseg" dilation style.
// - MobileNetV2 undilated (output stride 32), PPM on its 1280-channel map.
// - Pyramid pooling, bins (1, 2, 3, 6): pool → 1×1 conv (no bias) to C/4 → BN → ReLU →
//   bilinear upsample (align_corners) → concatenated with the input (2C channels).
// - Head: 3×3 conv → 512 → BN → ReLU → Dropout2d(0.1) → 1×1 conv → classes; the aux head
//   reads layer3 (3×3 conv → 256). Logits are upsampled bilinearly (align_corners) to the
//   input size, which need not be a multiple of 8.
//
// State-dict keys are semseg's: layer0.{0,1} (the stem's conv1/bn1), layer1–4, ppm.features.
// {i}.{1,2}, cls.{0,1,4}, aux.{0,1,4}; the MobileNetV2 body keeps torchvision's `features.*`.
// The reference's MobileNetV2-PSP has no aux head and returns the main logits as aux (so a
// 0.4 aux weight trains on 1.4×main); `forwardTrain` does the same so the recipe's numbers
// carry over — set the aux weight to 0 for a plain main loss.
import { BatchNorm2d } from "../nn/batchnorm.js";
import { interpolate } from "../nn/functional.js";
import { AdaptiveAvgPool2d, Dropout2d, ModuleList, ReLU, Sequential } from "../nn/layers.js";
import { Conv2d } from "../nn/linear.js";
import { Module, type StateDict } from "../nn/module.js";
import { cat } from "../tensor/ops/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { MobileNetV2 } from "./mobilenetv2.js";
import { type ResNet, type ResNetName, resnet } from "./resnet.js";

/** The backbones a PSPNet can be built on. */
export const PSP_BACKBONES = [
  "resnet18",
  "resnet34",
  "resnet50",
  "resnet101",
  "mobilenet_v2",
] as const;
/** One of {@link PSP_BACKBONES}. */
export type PSPBackbone = (typeof PSP_BACKBONES)[number];

/** Options of the {@link PSPNet} constructor. */
export interface PSPNetOptions {
  backbone: PSPBackbone;
  numClasses: number;
  /** Pyramid bins (1, 2, 3, 6). */
  bins?: number[];
  dropout?: number;
  /** ResNet base width (64); narrower networks for quick experiments and tests. */
  width?: number;
  /** Channels of the main head's 3×3 conv (512); the aux head uses half. */
  headChannels?: number;
}

/** pool → 1×1 conv → BN → ReLU per bin, each upsampled back and concatenated with x. */
export class PPM extends Module {
  readonly features: ModuleList<Sequential>;
  constructor(inDim: number, reduction: number, bins: number[]) {
    super();
    const branches = bins.map(
      (b) =>
        new Sequential(
          new AdaptiveAvgPool2d(b),
          new Conv2d(inDim, reduction, 1, { bias: false }),
          new BatchNorm2d(reduction),
          new ReLU(true),
        ),
    );
    this.features = this.registerModule("features", new ModuleList(branches));
  }
  forward(x: Tensor): Tensor {
    const size: [number, number] = [x.size(2), x.size(3)];
    const outs = [x];
    for (const f of this.features) {
      const y = f.forward(x);
      outs.push(interpolate(y, { size, mode: "bilinear", alignCorners: true }));
      y.dispose();
    }
    const out = cat(outs, 1);
    for (const o of outs.slice(1)) o.dispose();
    return out;
  }
}

function segHead(cin: number, mid: number, classes: number, dropout: number): Sequential {
  return new Sequential(
    new Conv2d(cin, mid, 3, { padding: 1, bias: false }),
    new BatchNorm2d(mid),
    new ReLU(true),
    new Dropout2d(dropout),
    new Conv2d(mid, classes, 1),
  );
}

/** What {@link PSPNet.forwardTrain} returns. */
export interface PSPOutput {
  main: Tensor;
  /** The aux logits (MobileNetV2: the main logits again, as the reference). */
  aux: Tensor;
}

/**
 * PSPNet on a ResNet (dilated, output stride 8, aux head on layer3) or MobileNetV2 backbone:
 * `forward` gives per-pixel logits [N, classes, H, W] at the input size.
 */
export class PSPNet extends Module {
  readonly backboneName: PSPBackbone;
  readonly numClasses: number;
  readonly #stages: Sequential[];
  readonly ppm: PPM;
  readonly cls: Sequential;
  readonly aux: Sequential | null;
  /** Torchvision key prefix → our key prefix, for loading a backbone checkpoint. */
  readonly #backboneKeys: (k: string) => string | null;
  readonly #backboneOwn: string[];

  constructor(o: PSPNetOptions) {
    super();
    if (!PSP_BACKBONES.includes(o.backbone)) {
      throw new Error(
        `Unknown PSPNet backbone "${o.backbone}"; expected one of ${PSP_BACKBONES.join(", ")}`,
      );
    }
    if (!Number.isInteger(o.numClasses) || o.numClasses < 1)
      throw new Error(`numClasses: expected a positive integer, got ${o.numClasses}`);
    this.backboneName = o.backbone;
    this.numClasses = o.numClasses;
    const bins = o.bins ?? [1, 2, 3, 6];
    const dropout = o.dropout ?? 0.1;
    const mid = o.headChannels ?? 512;
    let feaDim: number;
    let auxDim = 0;
    if (o.backbone === "mobilenet_v2") {
      const net = new MobileNetV2({ numClasses: 0 });
      this.registerModule("features", net.body);
      this.#stages = [net.body];
      feaDim = net.featureDim;
      this.#backboneKeys = (k) => (k.startsWith("features.") ? k : null);
    } else {
      const net: ResNet = resnet(o.backbone as ResNetName, {
        numClasses: 0,
        replaceStrideWithDilation: [false, true, true],
        dilationStyle: "semseg",
        ...(o.width ? { width: o.width } : {}),
      });
      const layer0 = new Sequential(net.conv1, net.bn1, new ReLU(true), net.maxpool);
      this.registerModule("layer0", layer0);
      net.layers.forEach((l, i) => {
        this.registerModule(`layer${i + 1}`, l);
      });
      this.#stages = [layer0, ...net.layers];
      feaDim = net.featureDim;
      auxDim = net.featureInfo.find((f) => f.name === "layer3")!.channels;
      this.#backboneKeys = (k) =>
        k.startsWith("conv1.")
          ? `layer0.0.${k.slice(6)}`
          : k.startsWith("bn1.")
            ? `layer0.1.${k.slice(4)}`
            : /^layer[1-4]\./.test(k)
              ? k
              : null;
    }
    this.#backboneOwn = [...this.stateDict().keys()];
    const reduction = Math.floor(feaDim / bins.length);
    this.ppm = this.registerModule("ppm", new PPM(feaDim, reduction, bins));
    const cinCls = feaDim + reduction * bins.length;
    this.cls = this.registerModule("cls", segHead(cinCls, mid, o.numClasses, dropout));
    this.aux =
      auxDim > 0
        ? this.registerModule("aux", segHead(auxDim, mid >> 1, o.numClasses, dropout))
        : null;
  }

  /** Logits at the input size (train or eval mode). */
  forward(x: Tensor): Tensor {
    const { main, aux } = this.#run(x, false);
    if (aux !== main) aux.dispose();
    return main;
  }

  /** Main and aux logits, both at the input size. */
  forwardTrain(x: Tensor): PSPOutput {
    return this.#run(x, true);
  }

  #run(x: Tensor, wantAux: boolean): PSPOutput {
    const size: [number, number] = [x.size(2), x.size(3)];
    let y = x;
    let layer3: Tensor | null = null;
    this.#stages.forEach((stage, i) => {
      const next = stage.forward(y);
      if (y !== x && y !== layer3) y.dispose();
      y = next;
      if (i === 3 && wantAux && this.aux) layer3 = y;
    });
    const pooled = this.ppm.forward(y);
    y.dispose();
    const main = up(this.cls.forward(pooled), size);
    pooled.dispose();
    if (layer3 === null) return { main, aux: main };
    const l3 = layer3 as Tensor;
    const aux = up(this.aux!.forward(l3), size);
    l3.dispose();
    return { main, aux };
  }

  /** Parameters of the backbone (base lr) and of PPM + heads (10× lr in the recipe). */
  paramGroups(): { backbone: Tensor[]; head: Tensor[] } {
    const head = new Set<Tensor>([
      ...this.ppm.parameters(),
      ...this.cls.parameters(),
      ...(this.aux?.parameters() ?? []),
    ]);
    return {
      backbone: this.parameters().filter((p) => !head.has(p)),
      head: this.parameters().filter((p) => head.has(p)),
    };
  }

  /**
   * Loads backbone weights given in torchvision's keys (any classifier head is dropped).
   * Unlike the reference's strict=False, every backbone tensor must be present and every
   * other key must be a classifier key: otherwise nothing is loaded and the error names the
   * keys. Returns the classifier keys left out.
   */
  loadBackbone(sd: StateDict, where = "backbone checkpoint"): string[] {
    const mapped = new Map<string, Tensor>();
    const unexpected: string[] = [];
    const head: string[] = [];
    for (const [k, v] of sd) {
      if (/^(fc|classifier(\.\d+)?)\.(weight|bias)$/.test(k)) head.push(k);
      else {
        const m = this.#backboneKeys(k);
        if (m === null || !this.#backboneOwn.includes(m)) unexpected.push(k);
        else mapped.set(m, v);
      }
    }
    const missing = this.#backboneOwn.filter((k) => !mapped.has(k));
    if (missing.length || unexpected.length) {
      const list = (ks: string[]) =>
        ks.length > 8 ? `${ks.slice(0, 8).join(", ")}, … (${ks.length} in all)` : ks.join(", ");
      throw new Error(
        `${where} does not fit the ${this.backboneName} PSPNet backbone: ` +
          `${missing.length ? `missing ${list(missing.map((k) => this.#torchvisionKey(k)))}` : ""}` +
          `${missing.length && unexpected.length ? "; " : ""}` +
          `${unexpected.length ? `unexpected ${list(unexpected)}` : ""}`,
      );
    }
    this.loadStateDict(mapped, { strict: false });
    return head;
  }

  #torchvisionKey(k: string): string {
    return k.replace(/^layer0\.0\./, "conv1.").replace(/^layer0\.1\./, "bn1.");
  }
}

function up(t: Tensor, size: [number, number]): Tensor {
  if (t.size(2) === size[0] && t.size(3) === size[1]) return t;
  const out = interpolate(t, { size, mode: "bilinear", alignCorners: true });
  t.dispose();
  return out;
}

export const pspnet = (o: PSPNetOptions) => new PSPNet(o);
