// `kdep svd`: one pass of the teacher over the data with the training augmentation → the
// SVD basis (V, μ, σ) that `kdep distill` aligns the student's feature to.
import { runSvd, SvdSchema } from "../../api/kdep.js";
import { checkTeacherFlags } from "../../api/teacher.js";
import { defineCommand } from "../options.js";

export const svdCommand = defineCommand({
  name: "svd",
  description: "one pass of the teacher over the data with the training augmentation → V, μ, σ",
  schema: SvdSchema,
  config: true,
  run: async (o) => {
    checkTeacherFlags(o.teacher, o.teacherWeights);
    const r = await runSvd(o);
    console.log(
      r.stopped
        ? `Stopped after ${r.manifest.count} features; run the same command again to continue`
        : `SVD of ${r.manifest.count} features (${r.teacherId}) written to ${o.out}`,
    );
  },
});
