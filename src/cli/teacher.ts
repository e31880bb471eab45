// What `kdep svd` and `kdep distill` share: the teacher (random or loaded weights), the
// ImageFolder's train/ and val/, and the evaluation transform.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { imageFolder } from "../data/datasets/imageFolder.js";
import { IMAGENET_MEAN, IMAGENET_STD, type TransformStep } from "../data/transforms/pipeline.js";
import { createModel, isModelName, unknownModelMessage } from "../models/registry.js";
import { createModelWithWeights, resolveWeights } from "../models/weights.js";
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

/** Refuses a missing --teacher-weights and an unknown architecture before any input is
 *  read: a forgotten flag must not cost days of distilling from noise. */
export function checkTeacherFlags(
  arch: string,
  weights: string | undefined,
): asserts weights is string {
  if (!isModelName(arch)) throw new Error(`--teacher: ${unknownModelMessage(arch)}`);
  if (!weights) {
    throw new Error(
      "--teacher-weights is required: pass a file, an http(s) URL or torchvision:<arch>, " +
        "or `--teacher-weights random` to use a randomly initialised teacher on purpose",
    );
  }
}

export async function loadTeacher(arch: string, weights: string | undefined, seed: number) {
  checkTeacherFlags(arch, weights);
  manualSeed(seed);
  if (weights === "random") {
    process.stderr.write(`note: the teacher is a randomly initialised ${arch} (seed ${seed})\n`);
    return { model: createModel(arch, { preReluFeature: true }), id: `${arch}@random-seed${seed}` };
  }
  const w = await resolveWeights(weights);
  // Built at the width its weights were trained at (ResNet width, MobileNetV2 multiplier).
  const loaded = createModelWithWeights(arch, { preReluFeature: true }, w.path, { strict: false });
  for (const line of loaded.report) process.stderr.write(`teacher: ${line}\n`);
  return { model: loaded.model, id: `${arch}@${w.hash}` };
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
