/**
 * kdep: Knowledge Distillation as Efficient Pre-training (KDEP, CVPR 2022) for Node.js on
 * libtorch. This module is the package's public API; everything not exported here is
 * internal and may change without notice. The `kdep` command line is a thin client of it.
 *
 * - Tensors: {@link Tensor}, creation functions, {@link tidy} / {@link dispose} memory scopes,
 *   {@link noGrad}, threads and seeds.
 * - Layers and optimisers: the {@link nn} and {@link optim} namespaces.
 * - The model zoo: {@link createModel}, {@link listModels}, torchvision-compatible ResNets and
 *   MobileNetV2, weights by file, URL or `torchvision:<arch>`; {@link PSPNet} for segmentation.
 * - Checkpoint I/O: {@link loadCheckpoint} (safe .pth reader), {@link writePth},
 *   safetensors, .npy, state dicts of tensors.
 * - Data: datasets, the worker-thread {@link DataLoader}, torchvision-exact transforms.
 * - Pipelines taking plain option objects, validated as the CLI validates its flags:
 *   {@link runSvd}, {@link runTargets}, {@link runDistill}, {@link runClassification},
 *   {@link runSegmentation}, {@link runDetection}, {@link convertCheckpoint},
 *   {@link exportCheckpointOnnx} / {@link exportOnnx} (classifiers, backbones, PSPNet),
 *   {@link runDemo}.
 *
 * @packageDocumentation
 */

export { type DetectionOptions, runDetection } from "./api/detection.js";
// Pipelines
export {
  type DistillOptions,
  runDistill,
  runSvd,
  type SvdOptions,
  type SvdRunResult,
} from "./api/kdep.js";
export {
  runSegmentation,
  type SegmentationOptions,
} from "./api/segment.js";
export {
  parseStudents,
  runTransferSuite,
  type SuiteOptions,
  type SuiteResult,
} from "./api/suite.js";
export {
  runTargets,
  type TargetsOptions,
  type TargetsRunResult,
} from "./api/targets.js";
export type { LogFn } from "./api/teacher.js";
export { type ClassificationOptions, runClassification } from "./api/transfer.js";
export { valTransform } from "./api/transforms.js";
export { caltech256 } from "./data/datasets/caltech256.js";
export { cifar100 } from "./data/datasets/cifar100.js";
export { cub200 } from "./data/datasets/cub200.js";
// Data
export { Dataset, type DatasetSpec, type Sample } from "./data/datasets/dataset.js";
export { dtd } from "./data/datasets/dtd.js";
export { fashionMnist } from "./data/datasets/idx.js";
export { type ImageFolderOptions, imageFolder } from "./data/datasets/imageFolder.js";
export { balancedSubset, subsetByClasses, subsetByIndex } from "./data/datasets/select.js";
export { makeSubset, type SubsetManifest, type SubsetOptions } from "./data/datasets/subset.js";
export { type Batch, DataLoader, type EpochReport, type LoaderOptions } from "./data/loader.js";
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  kdepTrainTransform,
  type TransformStep,
  transferTestTransform,
  transferTrainTransform,
} from "./data/transforms/pipeline.js";
export { type DistEnv, type DistOptions, readDistEnv } from "./distributed/env.js";
export { DistGroup } from "./distributed/group.js";
// Checkpoint I/O
export {
  type CheckpointFormat,
  extractStateDict,
  type LoadedCheckpoint,
  loadCheckpoint,
  type PyValue,
  type RawTensor,
  readNpy,
  readPth,
  readSafetensors,
  type SafetensorsFile,
  writeNpy,
  writePth,
  writeSafetensors,
} from "./io/index.js";
export { fromRaw, loadStateDictFile, saveStateDict, toRaw } from "./io/tensors.js";
// Model zoo
export type {
  Backbone,
  BackboneApi,
  FeatureInfo,
  FeatureMaps,
  HeadOptions,
} from "./models/backbone.js";
export { type ConvBnPair, convBnPairs, foldBatchNorm } from "./models/fold.js";
export { MobileNetV2, type MobileNetV2Options, mobilenetV2 } from "./models/mobilenetv2.js";
export {
  PPM,
  PSP_BACKBONES,
  type PSPBackbone,
  PSPNet,
  type PSPNetOptions,
  type PSPOutput,
} from "./models/pspnet.js";
export {
  createModel,
  featureDim,
  listModels,
  type ModelInfo,
  type ModelName,
  type ModelOptions,
} from "./models/registry.js";
export {
  ResNet,
  type ResNetName,
  type ResNetOptions,
  resnet,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
} from "./models/resnet.js";
export {
  loadWeightsInto,
  type ResolvedWeights,
  resolveWeights,
  TORCHVISION_WEIGHTS,
} from "./models/weights.js";
// Layers and optimisers
/** Layers and modules (PyTorch's torch.nn): Module, Conv2d, Linear, BatchNorm, pooling, Sequential; `nn.F` functional ops and losses, `nn.init` initialisers. */
export * as nn from "./nn/index.js";
/** Optimisers and learning-rate schedules (PyTorch's torch.optim): SGD. */
export * as optim from "./optim/index.js";
export {
  type ConvertFormat,
  type ConvertOptions,
  type ConvertResult,
  convertCheckpoint,
} from "./pipelines/convert/index.js";
export { type DemoOptions, runDemo } from "./pipelines/demo/demo.js";
export type { DemoSplit } from "./pipelines/demo/split.js";
export {
  exportCheckpointOnnx,
  exportOnnx,
  type OnnxCheckpointExportOptions,
  type OnnxExportOptions,
  type OnnxExportResult,
  type OnnxOutput,
} from "./pipelines/export/index.js";
export type { DistillResult } from "./pipelines/kdep/distill.js";
export { loadSvd, type SvdManifest } from "./pipelines/kdep/svdPass.js";
export type { TargetManifest } from "./pipelines/kdep/targetCacheFormat.js";
export type { ClassifyResult } from "./pipelines/transfer/classify.js";
export type { DetMetrics } from "./pipelines/transfer/detection/evaluate.js";
export type { DetRunResult } from "./pipelines/transfer/detection/train.js";
export type { SegmentResult } from "./pipelines/transfer/segment.js";
// Tensors
export {
  type CreateOptions,
  cudaDeviceCount,
  type DType,
  dispose,
  empty,
  enableGrad,
  fromArray,
  full,
  getNumThreads,
  inferenceMode,
  keep,
  manualSeed,
  noGrad,
  ones,
  rand,
  randn,
  scalar,
  setNumThreads,
  Tensor,
  type TypedArray,
  tidy,
  zeros,
} from "./tensor/index.js";
