export { type ArchFamily, archFamily, checkArch, inferArch } from "./arch.js";
export {
  type ConvertOptions,
  type ConvertResult,
  convertCheckpoint,
  type Rename,
} from "./convert.js";
export { type Detectron2Weights, detectron2ResNetKey, toDetectron2 } from "./detectron2.js";
export {
  CONVERT_FORMATS,
  type ConvertFormat,
  formatsHelp,
  isConvertFormat,
  parseFormat,
} from "./formats.js";
export { isHeadKey, splitHead } from "./head.js";
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  referenceNetworkKeys,
  robustnessCheckpoint,
  robustnessStateDict,
} from "./robustness.js";
export { mobilenetLayout, readSource, type SourceStateDict } from "./source.js";
