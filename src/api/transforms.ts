import { IMAGENET_MEAN, IMAGENET_STD, type TransformStep } from "../data/transforms/pipeline.js";

/** ImageNet evaluation transform scaled to the image size (Resize 256 → CenterCrop 224). */
export function valTransform(size: number): TransformStep[] {
  return [
    { op: "resize", size: Math.round((size * 256) / 224) },
    { op: "centerCrop", size },
    { op: "toTensor" },
    { op: "normalize", mean: IMAGENET_MEAN, std: IMAGENET_STD },
  ];
}
