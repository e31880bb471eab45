// `kdep transfer cls`: fine-tune (or linear-probe) a pre-trained backbone on a
// classification dataset; `--runs N` repeats it with seeds seed, seed+1, ….
import { runClassification } from "../../api/transfer.js";
import { TransferConfigSchema } from "../../pipelines/transfer/classifyConfig.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand, UsageError } from "../options.js";

export const transferClsCommand = defineCommand({
  name: "cls",
  description: "classification transfer: a new head on a pre-trained backbone, fine-tuned",
  schema: TransferConfigSchema.extend(DistFlags).strict(),
  config: true,
  run: async (settings) => {
    const [dist, c] = splitDistFlags(settings);
    if (!c.data) throw new UsageError("transfer cls needs --data");
    const distributed = joinDistributed(dist);
    const results = await runClassification({ ...c, distributed });
    if (distributed && !distributed.isLead) return;
    results.forEach((r, run) => {
      console.log(
        `run ${run}: best top-1 ${r.bestTop1.toFixed(2)} (epoch ${r.bestEpoch}), final top-1 ${r.finalTop1.toFixed(2)}, top-5 ${r.finalTop5.toFixed(2)}, per-class ${r.finalMeanPerClass.toFixed(2)}`,
      );
    });
    const best = results.map((r) => r.bestTop1);
    const mean = best.reduce((a, b) => a + b, 0) / best.length;
    console.log(
      `${c.dataset}: best top-1 ${mean.toFixed(2)} over ${best.length} run(s) [${best.map((b) => b.toFixed(2)).join(", ")}]`,
    );
  },
});
