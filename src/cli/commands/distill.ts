// `kdep distill`: distil the teacher's SVD-aligned, PTS-scaled feature into a student.
import { z } from "zod";
import { runDistill } from "../../api/kdep.js";
import { checkTeacherFlags } from "../../api/teacher.js";
import { DistillConfigSchema } from "../../pipelines/kdep/distillConfig.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand } from "../options.js";

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
    // Checked before any input is read: a forgotten flag must not cost a run on noise.
    checkTeacherFlags(c.teacher, c.teacherWeights);
    const distributed = joinDistributed(dist);
    const r = await runDistill({ ...c, resume, distributed });
    if (distributed && !distributed.isLead) return;
    console.log(
      r.stopped
        ? `Stopped in epoch ${r.epochsDone + 1} after step ${r.stepInEpoch}; continue with the same command and --resume (checkpoint in ${r.runDir})`
        : `Student written to ${r.studentPath} (${r.epochsDone} epochs, ${r.seconds.toFixed(0)} s)`,
    );
  },
});
