// Pieces the KDEP stages share: the teacher (architecture + weights spec → model and an id
// naming both) and the ImageFolder split (train/ and an optional val/ beside it).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../data/datasets/dataset.js";
import { imageFolder } from "../data/datasets/imageFolder.js";
import type { Backbone } from "../models/backbone.js";
import { createModel, isModelName, unknownModelMessage } from "../models/registry.js";
import { createModelWithWeights, resolveWeights } from "../models/weights.js";
import { manualSeed } from "../tensor/index.js";

/** Where the API's notes go (the CLI: stderr). */
export type LogFn = (line: string) => void;
export const stderrLog: LogFn = (line) => process.stderr.write(`${line}\n`);

export interface LoadedTeacher {
  model: Backbone;
  /** Architecture plus the weights' hash prefix (or the seed of a random init). */
  id: string;
}

/** Refuses an unknown architecture and a missing teacher-weights setting; the CLI calls it
 *  before reading any input, so a forgotten flag cannot cost a run distilling from noise. */
export function checkTeacherFlags(arch: string, weights: string | undefined): void {
  if (!isModelName(arch)) throw new Error(`--teacher: ${unknownModelMessage(arch)}`);
  if (!weights) {
    throw new Error(
      "--teacher-weights is required: pass a file, an http(s) URL or torchvision:<arch>, " +
        "or `--teacher-weights random` to use a randomly initialised teacher on purpose",
    );
  }
}

/** Builds the teacher with its pre-ReLU feature and loads `weights` (file, URL,
 *  torchvision:, or "random"), at the width the weights were trained at. */
export async function loadTeacher(
  arch: string,
  weights: string | undefined,
  seed: number,
  log: LogFn = stderrLog,
): Promise<LoadedTeacher> {
  manualSeed(seed);
  if (!weights || weights === "random") {
    if (!weights)
      log(`warning: no teacher weights; using a randomly initialised ${arch} (seed ${seed})`);
    return { model: createModel(arch, { preReluFeature: true }), id: `${arch}@random-seed${seed}` };
  }
  const w = await resolveWeights(weights);
  const loaded = createModelWithWeights(arch, { preReluFeature: true }, w.path, { strict: false });
  for (const line of loaded.report) log(`teacher: ${line}`);
  return { model: loaded.model, id: `${arch}@${w.hash}` };
}

/** The teacher's name in SVD folders and target caches, without building the model. */
export async function teacherIdOf(arch: string, weights: string | undefined, seed: number) {
  return weights && weights !== "random"
    ? `${arch}@${(await resolveWeights(weights)).hash}`
    : `${arch}@random-seed${seed}`;
}

/** `data/train` (or `data` itself) and `data/val` when present, with train's classes. */
export async function trainFolder(
  data: string,
): Promise<{ train: Dataset; val: Dataset | undefined }> {
  const root = existsSync(join(data, "train")) ? join(data, "train") : data;
  const train = await imageFolder(root);
  const valDir = join(data, "val");
  const val = existsSync(valDir)
    ? await imageFolder(valDir, { classes: train.classes })
    : undefined;
  return { train, val };
}
