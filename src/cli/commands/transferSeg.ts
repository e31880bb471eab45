// `kdep transfer seg`: PSPNet segmentation transfer with KDEP's recipe (per-dataset
// defaults filled in after the flags and the config file are resolved).
import { printSegResult, segTransfer } from "../../api/segment.js";
import { SegConfigSchema, withRecipe } from "../../pipelines/transfer/segConfig.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand } from "../options.js";

export const transferSegCommand = defineCommand({
  name: "seg",
  description: "segmentation transfer: a PSPNet on a pre-trained backbone, mIoU on the val set",
  schema: SegConfigSchema.extend(DistFlags).strict(),
  config: true,
  run: async (settings) => {
    const [dist, s] = splitDistFlags(settings);
    const c = withRecipe(s);
    const distributed = joinDistributed(dist);
    const r = await segTransfer(c, undefined, distributed);
    if (distributed && !distributed.isLead) return;
    printSegResult(c, r, (line) => console.log(line));
  },
});
