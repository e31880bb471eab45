// `kdep transfer seg`: PSPNet segmentation transfer with KDEP's recipe (per-dataset
// defaults filled in after the flags and the config file are resolved).
import { printSegResult, segTransfer } from "../../api/segment.js";
import { SegConfigSchema, withRecipe } from "../../pipelines/transfer/segConfig.js";
import { defineCommand } from "../options.js";

export const transferSegCommand = defineCommand({
  name: "seg",
  description: "segmentation transfer: a PSPNet on a pre-trained backbone, mIoU on the val set",
  schema: SegConfigSchema,
  config: true,
  run: async (s) => {
    const c = withRecipe(s);
    printSegResult(c, await segTransfer(c), (line) => console.log(line));
  },
});
