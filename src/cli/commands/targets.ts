// `kdep targets`: the teacher-target cache that `kdep distill --targets` trains from.
import { z } from "zod";
import { SvdSchema } from "../../api/kdep.js";
import { checkTeacherFlags, loadTeacher, trainFolder } from "../../api/teacher.js";
import { kdepTrainTransform } from "../../data/transforms/pipeline.js";
import { loadSvd } from "../../pipelines/kdep/svdPass.js";
import { svdHash } from "../../pipelines/kdep/targetCacheFormat.js";
import { runTargets } from "../../pipelines/kdep/targetCacheWriter.js";
import { defineCommand } from "../options.js";

/** The teacher, data and augmentation settings are svd's (the same pass, once per epoch). */
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

export const targetsCommand = defineCommand({
  name: "targets",
  description:
    "cache the teacher's SVD-projected targets of every epoch's augmentation, for `distill --targets`",
  schema: TargetsSchema,
  config: true,
  after: `
Ctrl-C finishes the current chunk and exits; the same command continues where it stopped
(and so does a killed run), writing the same bytes. A folder built with other settings is
refused, naming them. More --epochs extend an existing cache.`,
  run: async (o) => {
    // Checked before any input is read, as svd and distill do.
    checkTeacherFlags(o.teacher, o.teacherWeights);
    const teacher = await loadTeacher(o.teacher, o.teacherWeights, o.seed);
    const { train } = await trainFolder(o.data);
    const r = await runTargets({
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
    });
    console.log(
      r.stopped
        ? `Stopped after ${r.chunks} chunks; run the same command again to continue`
        : `Targets of ${r.manifest.epochs} epochs × ${train.length} images (k = ${r.manifest.k}) in ${o.out}`,
    );
  },
});
