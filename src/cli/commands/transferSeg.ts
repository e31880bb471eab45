// `kdep transfer seg`: PSPNet segmentation transfer with KDEP's recipe (per-dataset
// defaults filled in after the flags and the config file are resolved), a thin client of
// the API's runSegmentation.
import { printSegResult, runSegmentation } from "../../api/segment.js";
import { SegConfigSchema } from "../../pipelines/transfer/segConfig.js";
import { defineCommand, UsageError } from "../options.js";

export const transferSegCommand = defineCommand({
  name: "seg",
  description: "segmentation transfer: a PSPNet on a pre-trained backbone, mIoU on the val set",
  schema: SegConfigSchema,
  config: true,
  run: async (s) => {
    if (!s.data) throw new UsageError("transfer seg needs --data");
    printSegResult(s, await runSegmentation(s), (line) => console.log(line));
  },
});
