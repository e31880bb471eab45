// `kdep transfer suite`: CIFAR-100, DTD, Caltech-256 and CUB-200 for one or more students,
// each with the classification protocol of `transfer cls` → the Figure-1 table, plus detection
// rows on request. The suite itself is runTransferSuite (src/api/suite.ts).
import { runTransferSuite, TransferSuiteSchema } from "../../api/suite.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand } from "../options.js";

export const transferSuiteCommand = defineCommand({
  name: "suite",
  description:
    "CIFAR-100, DTD, Caltech-256 and CUB-200 (and detection rows) for one or more students → Figure-1 table (md, csv, json, png)",
  schema: TransferSuiteSchema.extend(DistFlags).strict(),
  config: true,
  run: async (settings) => {
    const [dist, o] = splitDistFlags(settings);
    const distributed = joinDistributed(dist);
    const r = await runTransferSuite(o, (line) => console.log(line), distributed);
    if (distributed && !distributed.isLead) return;
    console.log(`Suite table: ${r.files.md} (csv, json, png beside it)`);
  },
});
