// BatchNorm folding for frozen models (the KDEP teacher). In eval mode conv → BN is one affine
// map per output channel: with s = γ/√(var+ε), W' = W·s and b' = (b − mean)·s + β (b = 0 for
// a conv without bias), so the conv alone computes it and the BN pass, with the
// activation-sized temporary it writes, disappears. PyTorch's torch.fx fuse does the same.
import { BatchNorm1d, BatchNorm2d } from "../nn/batchnorm.js";
import { Conv2d } from "../nn/linear.js";
import type { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { tidy } from "../tensor/scope.js";
import { ConvBnAct, InvertedResidual, MobileNetV2 } from "./mobilenetv2.js";
import { type BasicBlock, Bottleneck, ResNet } from "./resnet.js";

/** A convolution and the BatchNorm that reads its output directly. */
export type ConvBnPair = readonly [Conv2d, BatchNorm2d];

/** Every conv → BN pair of a ResNet or MobileNetV2; other models are refused. */
export function convBnPairs(model: Module): ConvBnPair[] {
  const pairs: ConvBnPair[] = [];
  if (model instanceof ResNet) {
    pairs.push([model.conv1, model.bn1]);
    for (const b of model.blocks()) {
      pairs.push([b.conv1, b.bn1], [b.conv2, b.bn2]);
      if (b instanceof Bottleneck) pairs.push([b.conv3, b.bn3]);
      if (b.downsample) pairs.push(seqPair(b.downsample.at(0), b.downsample.at(1), b));
    }
  } else if (model instanceof MobileNetV2) {
    for (const m of model.modules()) {
      if (m instanceof ConvBnAct) pairs.push([m.conv, m.bn]);
      else if (m instanceof InvertedResidual) pairs.push(seqPair(m.conv.at(-2), m.conv.at(-1), m));
    }
  } else {
    throw new Error(
      `foldBatchNorm: ${model.constructor.name} is not a ResNet or MobileNetV2, whose conv → BN pairs it knows`,
    );
  }
  return pairs;
}

function seqPair(conv: Module, bn: Module, owner: BasicBlock | Bottleneck | InvertedResidual) {
  if (!(conv instanceof Conv2d) || !(bn instanceof BatchNorm2d)) {
    throw new Error(
      `foldBatchNorm: ${owner.constructor.name} does not end in Conv2d → BatchNorm2d`,
    );
  }
  return [conv, bn] as const;
}

/**
 * Folds every BatchNorm of a ResNet or MobileNetV2 into the convolution before it, in place
 * (each weight is scaled where it lies: no second weight set is ever held), for inference
 * only: the model is left in eval mode and refuses train(), requiresGrad_(true),
 * loadStateDict and forward outside noGrad. Its state dict is the folded one (conv biases, no
 * BN entries): hash or save the original weights before folding. A folded model is returned
 * unchanged, so every stage that runs a frozen teacher can call this.
 */
export function foldBatchNorm<M extends Module>(model: M): M {
  const pairs = convBnPairs(model);
  const paired = new Set(pairs.map(([, bn]) => bn));
  for (const [name, m] of model.namedModules()) {
    if ((m instanceof BatchNorm2d || m instanceof BatchNorm1d) && !paired.has(m as BatchNorm2d))
      throw new Error(`foldBatchNorm: BatchNorm "${name}" follows no known convolution`);
  }
  for (const pair of pairs) checkPair(...pair); // all of them before changing anything
  const reason = `${model.constructor.name} has its BatchNorm folded into its convolutions (foldBatchNorm), so it is inference-only; build it again from its weights to train or load it`;
  for (const [conv, bn] of pairs) {
    if (bn.folded) continue;
    foldPair(conv, bn);
    conv.setInferenceOnly(reason);
    bn.setInferenceOnly(reason);
  }
  if (model.inferenceOnly === null) model.setInferenceOnly(reason);
  return model;
}

function checkPair(conv: Conv2d, bn: BatchNorm2d): void {
  if (bn.folded) return;
  if (!bn.getBuffer("running_mean") || !bn.getBuffer("running_var")) {
    throw new Error(
      `foldBatchNorm: BatchNorm2d(${bn.numFeatures}) keeps no running statistics; it normalises by batch statistics and cannot be folded`,
    );
  }
  if (conv.outChannels !== bn.numFeatures) {
    throw new Error(
      `foldBatchNorm: conv with ${conv.outChannels} output channels feeds BatchNorm2d(${bn.numFeatures})`,
    );
  }
}

/** W ← W·s and bias ← (b − mean)·s + β with s = γ/√(var+ε), as PyTorch's fuse_conv_bn_weights. */
function foldPair(conv: Conv2d, bn: BatchNorm2d): void {
  const mean = bn.getBuffer("running_mean")!;
  const variance = bn.getBuffer("running_var")!;
  const gamma = bn.getParameter("weight");
  const beta = bn.getParameter("bias");
  noGrad(() => {
    // Products in torch's order, so the folded values are PyTorch's bit for bit.
    const bias = tidy(() => {
      const rsqrt = variance.add(bn.eps).rsqrt();
      const s = gamma ? gamma.mul(rsqrt) : rsqrt;
      conv.weight.mul_(s.reshape(-1, 1, 1, 1));
      const b = (conv.bias ? conv.bias.sub(mean) : mean.neg()).mul_(rsqrt);
      if (gamma) b.mul_(gamma);
      return beta ? b.add_(beta) : b;
    });
    conv.setTensor("bias", bias);
  });
  // The BN's state now lives in the conv: free it, so the state dict holds each value once.
  for (const name of ["weight", "bias"]) {
    bn.getParameter(name)?.dispose();
    bn.registerParameter(name, null);
  }
  for (const name of ["running_mean", "running_var", "num_batches_tracked"]) {
    bn.getBuffer(name)?.dispose();
    bn.registerBuffer(name, null);
  }
  bn.folded = true;
}
