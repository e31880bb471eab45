// What `kdep svd` and `kdep distill` share: the teacher (random or loaded weights), the
// ImageFolder's train/ and val/, and the evaluation transform.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { imageFolder } from "../data/datasets/imageFolder.js";
import { IMAGENET_MEAN, IMAGENET_STD, type TransformStep } from "../data/transforms/pipeline.js";
import { createModel } from "../models/registry.js";
import { loadWeightsInto, resolveWeights } from "../models/weights.js";
import { manualSeed } from "../tensor/index.js";

/** ImageNet evaluation transform scaled to the image size (Resize 256 → CenterCrop 224). */
export function valTransform(size: number): TransformStep[] {
  return [
    { op: "resize", size: Math.round((size * 256) / 224) },
    { op: "centerCrop", size },
    { op: "toTensor" },
    { op: "normalize", mean: IMAGENET_MEAN, std: IMAGENET_STD },
  ];
}

export async function loadTeacher(arch: string, weights: string | undefined, seed: number) {
  manualSeed(seed);
  const model = createModel(arch, { preReluFeature: true });
  if (!weights) {
    process.stderr.write(
      `warning: no --teacher-weights; using a randomly initialised ${arch} (seed ${seed})\n`,
    );
    return { model, id: `${arch}@random-seed${seed}` };
  }
  const w = await resolveWeights(weights);
  for (const line of loadWeightsInto(model, w.path, { strict: false }))
    process.stderr.write(`teacher: ${line}\n`);
  return { model, id: `${arch}@${w.hash}` };
}

/** The folder's train/ (or the folder itself) and its val/ when there is one. */
export async function trainFolder(data: string) {
  const root = existsSync(join(data, "train")) ? join(data, "train") : data;
  const train = await imageFolder(root);
  const valDir = join(data, "val");
  const val = existsSync(valDir)
    ? await imageFolder(valDir, { classes: train.classes })
    : undefined;
  return { train, val };
}
