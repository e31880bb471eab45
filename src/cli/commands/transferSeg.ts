// `kdep transfer seg`: PSPNet segmentation transfer with KDEP's recipe (per-dataset
// defaults filled in after the flags and the config file are resolved), a thin client of
// the API's runSegmentation.
import { printSegResult, runSegmentation } from "../../api/segment.js";
import { SegConfigSchema } from "../../pipelines/transfer/segConfig.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand, UsageError } from "../options.js";

export const transferSegCommand = defineCommand({
  name: "seg",
  description: "segmentation transfer: a PSPNet on a pre-trained backbone, mIoU on the val set",
  schema: SegConfigSchema.extend(DistFlags).strict(),
  config: true,
  run: async (settings) => {
    const [dist, s] = splitDistFlags(settings);
    if (!s.data) throw new UsageError("transfer seg needs --data");
    const distributed = joinDistributed(dist);
    const r = await runSegmentation({ ...s, distributed });
    if (distributed && !distributed.isLead) return;
    printSegResult(s, r, (line) => console.log(line));
  },
});
