// Faster R-CNN assembled as torchvision's GeneralizedRCNN: transform → backbone → RPN →
// RoI heads → boxes back to the original image sizes. Two layouts: FPN (ResNet or
// MobileNetV2, MultiScaleRoIAlign + TwoMLPHead) and C4 (ResNet, layer4 as the box head).
import { BatchNorm2d } from "../../nn/batchnorm.js";
import { Module } from "../../nn/module.js";
import { noGrad, type Tensor, tidy } from "../../tensor/index.js";
import { AnchorGenerator } from "./anchors.js";
import { C4BoxHead, ResNetC4 } from "./c4.js";
import { type DetectionBackbone, MobileNetV2Fpn, ResNetFpn, scaledChannels } from "./fpn.js";
import { MultiScaleRoIAlign } from "./poolers.js";
import {
  type Detections,
  FastRcnnPredictor,
  ROI_HEADS_DEFAULTS,
  RoiHeads,
  type RoiHeadsOptions,
  type RoiLosses,
  type Targets,
  TwoMlpHead,
} from "./roiHeads.js";
import { RPN_DEFAULTS, Rpn, type RpnLosses, type RpnOptions } from "./rpn.js";
import { RpnHead } from "./rpnHead.js";
import { RcnnTransform, type TransformOptions } from "./transform.js";

export type DetectionBackboneName = "resnet18" | "resnet50" | "mobilenet_v2";
export type DetectionHead = "fpn" | "c4";

export interface FasterRcnnOptions {
  backbone: DetectionBackboneName;
  head: DetectionHead;
  /** Including the background class 0. */
  numClasses: number;
  transform?: Partial<TransformOptions>;
  rpn?: Partial<RpnOptions>;
  roiHeads?: Partial<RoiHeadsOptions>;
  /** Keep the backbone's BatchNorm in eval mode with its parameters fixed. */
  frozenBn?: boolean;
  /** ResNet base width (64): a narrower trunk for narrow students (ResNet only); FPN's 256
   * channels and the box head's 1024 scale with it. */
  width?: number;
}

export const TRANSFORM_DEFAULTS: TransformOptions = {
  minSize: 800,
  maxSize: 1333,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  sizeDivisible: 32,
};

export type DetectionLosses = RpnLosses & RoiLosses;

export class FasterRcnn extends Module {
  readonly transform: RcnnTransform;
  readonly backbone: DetectionBackbone;
  readonly rpn: Rpn;
  readonly roiHeads: RoiHeads;

  constructor(readonly o: FasterRcnnOptions) {
    super();
    const c4 = o.head === "c4";
    if (c4 && o.backbone === "mobilenet_v2") throw new Error("The C4 head needs a ResNet backbone");
    if (o.width !== undefined && o.backbone === "mobilenet_v2")
      throw new Error("width applies to ResNet backbones only, not mobilenet_v2");
    this.transform = new RcnnTransform({ ...TRANSFORM_DEFAULTS, ...o.transform });
    const backbone: DetectionBackbone = c4
      ? new ResNetC4(o.backbone as "resnet18", o.width)
      : o.backbone === "mobilenet_v2"
        ? new MobileNetV2Fpn()
        : new ResNetFpn(o.backbone, o.width);
    this.backbone = this.registerModule("backbone", backbone);
    const anchors = c4
      ? new AnchorGenerator([[32, 64, 128, 256, 512]], [[0.5, 1, 2]])
      : new AnchorGenerator(
          [[32], [64], [128], [256], [512]],
          Array.from({ length: 5 }, () => [0.5, 1, 2]),
        );
    const rpnHead = new RpnHead(backbone.outChannels, anchors.numAnchorsPerLocation()[0]);
    this.rpn = this.registerModule("rpn", new Rpn(anchors, rpnHead, { ...RPN_DEFAULTS, ...o.rpn }));
    const heads = { ...ROI_HEADS_DEFAULTS, ...o.roiHeads };
    let predictor: FastRcnnPredictor;
    if (c4) {
      const head = new C4BoxHead(backbone as ResNetC4);
      predictor = new FastRcnnPredictor(head.outChannels, o.numClasses);
      this.roiHeads = this.registerModule(
        "roi_heads",
        new RoiHeads((f, b) => head.forward(f, b), predictor, heads),
      );
    } else {
      const pooler = new MultiScaleRoIAlign({ outputSize: 7, samplingRatio: 2 });
      const rep = scaledChannels(1024, o.width);
      const mlp = new TwoMlpHead(backbone.outChannels * 49, rep);
      predictor = new FastRcnnPredictor(rep, o.numClasses);
      this.roiHeads = this.registerModule(
        "roi_heads",
        new RoiHeads(
          (f, b, s) => mlp.forward(pooler.forward(f.slice(0, 4), b, s)),
          predictor,
          heads,
        ),
      );
      this.roiHeads.registerModule("box_head", mlp);
    }
    this.roiHeads.registerModule("box_predictor", predictor);
    if (o.frozenBn) this.#freezeBn();
  }

  #freezeBn(): void {
    for (const m of this.backbone.modules()) {
      if (m instanceof BatchNorm2d) for (const p of m.parameters()) p.requiresGrad_(false);
    }
  }

  override train(mode = true): this {
    super.train(mode);
    this.transform.training = mode;
    if (mode && this.o.frozenBn) {
      for (const m of this.backbone.modules()) if (m instanceof BatchNorm2d) m.training = false;
    }
    return this;
  }

  /** Training: images [3, h, w] in [0, 1] and their targets → the four losses. */
  losses(images: readonly Tensor[], targets: readonly Targets[]): DetectionLosses {
    if (!this.training) throw new Error("FasterRcnn.losses needs train mode");
    return tidy(() => {
      const t = this.transform.forward(
        images,
        targets.map((x) => x.boxes),
      );
      const tg = targets.map((x, i) => ({ boxes: t.boxes![i], labels: x.labels }));
      const features = this.backbone.forward(t.list.tensors);
      const { proposals, losses } = this.rpn.forward(
        t.list,
        features,
        tg.map((x) => x.boxes),
      );
      const r = this.roiHeads.forward(features, proposals, t.list.imageSizes, tg);
      return { ...losses!, ...r.losses! };
    });
  }

  /** Evaluation: detections in each original image's pixels (no autograd graph). */
  detect(images: readonly Tensor[]): Detections[] {
    if (this.training) throw new Error("FasterRcnn.detect needs eval mode");
    return tidy(() => noGrad(() => this.#detect(images)));
  }

  #detect(images: readonly Tensor[]): Detections[] {
    const t = this.transform.forward(images);
    const features = this.backbone.forward(t.list.tensors);
    const { proposals } = this.rpn.forward(t.list, features);
    const dets = this.roiHeads.forward(features, proposals, t.list.imageSizes).detections!;
    return dets.map((d, i) => ({
      ...d,
      boxes: this.transform.postprocess(d.boxes, t.list.imageSizes[i], [
        images[i].size(1),
        images[i].size(2),
      ]),
    }));
  }
}
