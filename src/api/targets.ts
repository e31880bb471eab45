// The teacher-target cache (`kdep targets`) as a library call: runTargets validates its
// options with the command's schema, builds the teacher and the data, and writes the cache
// that `runDistill({ targets })` trains from.
import { z } from "zod";
import { kdepTrainTransform } from "../data/transforms/pipeline.js";
import { loadSvd } from "../pipelines/kdep/svdPass.js";
import { svdHash, type TargetManifest } from "../pipelines/kdep/targetCacheFormat.js";
import { runTargets as targetsPipeline } from "../pipelines/kdep/targetCacheWriter.js";
import { SvdSchema } from "./kdep.js";
import { checkTeacherFlags, type LogFn, loadTeacher, stderrLog, trainFolder } from "./teacher.js";
import { validateOptions } from "./validate.js";

/** Settings of `kdep targets`: svd's teacher, data and augmentation keys (the same pass,
 *  once per epoch) plus the SVD folder, the epochs and the target dims to keep. */
export const TargetsSchema = SvdSchema.omit({ exact: true, out: true })
  .extend({
    svd: z.string().describe("folder written by `kdep svd` for this teacher").meta({ arg: "dir" }),
    epochs: z
      .number()
      .int()
      .positive()
      .default(90)
      .describe("epochs to cache (as many as distill trains)"),
    out: z.string().describe("cache folder").meta({ arg: "dir" }),
    k: z
      .number()
      .int()
      .positive()
      .default(512)
      .describe(
        "target dims kept: the largest student feature (512 ResNet-18/34, 1280 MobileNetV2)",
      ),
  })
  .strict();

/** Options of {@link runTargets}: the settings of `kdep targets` (`data`, `svd`, `out` and
 *  `teacherWeights` are required; `teacherWeights: "random"` for a random teacher on purpose). */
export type TargetsOptions = z.input<typeof TargetsSchema> & {
  progress?: "auto" | "bar" | "lines" | "quiet";
};

/** What {@link runTargets} returns once the cache is complete or the build is interrupted. */
export interface TargetsRunResult {
  /** The cache's manifest (teacher, SVD hash, seed, augmentation, image list, k, epochs). */
  manifest: TargetManifest;
  /** True when interrupted (Ctrl-C): run again with the same options to continue. */
  stopped: boolean;
  /** Chunks (teacher batches) computed by this call; 0 when the cache was already complete. */
  chunks: number;
  /** Images per epoch in the cache. */
  images: number;
  teacherId: string;
}

/**
 * The teacher-target cache of `kdep targets`: one teacher pass per epoch over the
 * augmentation `runDistill` draws, storing every image's SVD-projected target in float16 in
 * `out`. Resumes an interrupted build; refuses a folder built with other settings.
 */
export async function runTargets(
  options: TargetsOptions,
  log: LogFn = stderrLog,
): Promise<TargetsRunResult> {
  const { progress, ...rest } = options;
  const o = validateOptions(TargetsSchema, rest, "runTargets");
  // Before any input is read, as svd and distill do.
  checkTeacherFlags(o.teacher, o.teacherWeights);
  const teacher = await loadTeacher(o.teacher, o.teacherWeights, o.seed, log);
  try {
    const { train } = await trainFolder(o.data);
    const r = await targetsPipeline({
      teacher: teacher.model,
      teacherId: teacher.id,
      svd: loadSvd(o.svd, teacher.id),
      svdHash: svdHash(o.svd),
      data: train,
      transform: kdepTrainTransform(o.imageSize),
      out: o.out,
      epochs: o.epochs,
      k: o.k,
      batchSize: o.batchSize,
      workers: o.workers,
      seed: o.seed,
      device: o.device,
      progress,
    });
    return {
      manifest: r.manifest,
      stopped: r.stopped,
      chunks: r.chunks,
      images: train.length,
      teacherId: teacher.id,
    };
  } finally {
    teacher.model.dispose();
  }
}
