// `kdep transfer suite`: CIFAR-100, DTD, Caltech-256 and CUB-200 for one or more students,
// each with the classification protocol of `transfer cls` → the Figure-1 table, plus detection
// rows on request. The suite itself is runTransferSuite (src/api/suite.ts).
import { runTransferSuite, TransferSuiteSchema } from "../../api/suite.js";
import { defineCommand } from "../options.js";

export const transferSuiteCommand = defineCommand({
  name: "suite",
  description:
    "CIFAR-100, DTD, Caltech-256 and CUB-200 (and detection rows) for one or more students → Figure-1 table (md, csv, json, png)",
  schema: TransferSuiteSchema,
  config: true,
  run: async (o) => {
    const r = await runTransferSuite(o, (line) => console.log(line));
    console.log(`Suite table: ${r.files.md} (csv, json, png beside it)`);
  },
});
