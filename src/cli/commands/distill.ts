// `kdep distill`: distil the teacher's SVD-aligned, PTS-scaled feature into a student.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { kdepTrainTransform } from "../../data/transforms/pipeline.js";
import { CHECKPOINT_FILE } from "../../pipelines/common/trainLoop.js";
import { runDistill } from "../../pipelines/kdep/distill.js";
import { DistillConfigSchema } from "../../pipelines/kdep/distillConfig.js";
import { loadSvd } from "../../pipelines/kdep/svdPass.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand, UsageError } from "../options.js";
import { loadTeacher, trainFolder, valTransform } from "../teacher.js";

export const DistillCommandSchema = DistillConfigSchema.extend({
  resume: z.boolean().default(false).describe("continue the run in --out from its last checkpoint"),
  ...DistFlags,
}).strict();

export const distillCommand = defineCommand({
  name: "distill",
  description: "distil the teacher's SVD-aligned, PTS-scaled feature into a student",
  schema: DistillCommandSchema,
  config: true,
  after: `
The resolved settings are written to <out>/config.json. Ctrl-C finishes the step, writes a
checkpoint and exits 0; continue with the same command and --resume.`,
  run: async (settings) => {
    const [dist, { resume, ...c }] = splitDistFlags(settings);
    if (existsSync(join(c.out, CHECKPOINT_FILE)) && !resume) {
      throw new UsageError(
        `${c.out} already holds a checkpoint: pass --resume to continue it, or choose another --out`,
      );
    }
    if (!c.data) throw new UsageError("distill needs --data (an ImageFolder root with train/)");
    const group = joinDistributed(dist);
    const teacher = await loadTeacher(c.teacher, c.teacherWeights, c.seed);
    const svd =
      c.align === "svd" ? loadSvd(c.svd ?? join(c.out, "..", "svd"), teacher.id) : undefined;
    const { train, val } = await trainFolder(c.data);
    const r = await runDistill({
      config: c,
      teacher: teacher.model,
      train,
      trainTransform: kdepTrainTransform(c.imageSize),
      val,
      valTransform: valTransform(c.imageSize),
      svd,
      distributed: group,
    });
    if (group && !group.isLead) return;
    console.log(
      r.stopped
        ? `Stopped in epoch ${r.epochsDone + 1} after step ${r.stepInEpoch}; continue with the same command and --resume (checkpoint in ${r.runDir})`
        : `Student written to ${r.studentPath} (${r.epochsDone} epochs, ${r.seconds.toFixed(0)} s)`,
    );
  },
});
