// The shape every model in the zoo shares (timm's split): forwardFeatures → the last feature
// map, forwardHead → global average pool (any input size) → optional classifier. KDEP reads
// its feature from forwardHead(…, {preLogits: true}); segmentation and detection attach to
// the named maps of features().
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";

/** Named intermediate maps, strides 2/4/8/16/32 (less where dilation replaces a stride). */
export interface FeatureMaps {
  stem: Tensor;
  layer1: Tensor;
  layer2: Tensor;
  layer3: Tensor;
  /** The forwardFeatures output: what forwardHead pools. */
  layer4: Tensor;
  /** Global-average-pooled layer4, [N, featureDim]: the KDEP feature. */
  pooled: Tensor;
  /** Model-specific extra taps (MobileNetV2: `lastBlock`, the 320-channel map). */
  [extra: string]: Tensor;
}

/** One named feature map of a backbone: channels and output stride. */
export interface FeatureInfo {
  name: string;
  channels: number;
  /** Output stride with respect to the input. */
  stride: number;
}

/** Options of {@link BackboneApi.forwardHead}. */
export interface HeadOptions {
  /** Return the pooled feature [N, featureDim] and skip the classifier. */
  preLogits?: boolean;
}

/** What every model of the zoo offers besides being a Module: features, head, classifier reset. */
export interface BackboneApi {
  /** Channels of layer4 = length of the pooled feature. */
  readonly featureDim: number;
  /** Classes of the head; 0 when the model has none (forward then returns the pooled feature). */
  readonly numClasses: number;
  /**
   * KDEP's feature point: the last activation before the pooled feature is skipped (ResNet:
   * the ReLU after the final residual addition; MobileNetV2: the final ReLU6). A plain flag:
   * set it back to false for transfer — the state dict is the same either way.
   */
  preReluFeature: boolean;
  /** Maps of features(), in order, with channels and stride. */
  readonly featureInfo: readonly FeatureInfo[];
  forward(x: Tensor): Tensor;
  forwardFeatures(x: Tensor): Tensor;
  forwardHead(map: Tensor, opts?: HeadOptions): Tensor;
  features(x: Tensor): FeatureMaps;
  /** Replaces the classifier by a freshly initialised Linear(featureDim, n) (PyTorch's default
   * init); n = 0 removes it. */
  resetClassifier(numClasses: number): void;
}

/** A model of the zoo: a {@link nn.Module} with the {@link BackboneApi} methods. */
export type Backbone = Module & BackboneApi;
