// `kdep transfer suite` as a library call: the four classification datasets for one or more
// students, each fine-tuned `runs` times, summarised as the paper's Figure-1 table.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { writeSuiteTable } from "../pipelines/report/suiteTable.js";
import type { SuiteRow } from "../pipelines/report/types.js";
import { TransferConfigSchema } from "../pipelines/transfer/classifyConfig.js";
import { transferData } from "../pipelines/transfer/datasets.js";
import { type LogFn, stderrLog } from "./teacher.js";
import { transferRuns, weightsPath } from "./transfer.js";
import { validateOptions } from "./validate.js";

const SUITE_DATASETS = ["cifar100", "dtd", "caltech256", "cub200"] as const;

/** Where each suite dataset lives under dataRoot (the names the archives unpack to). */
const SUITE_DIRS: Record<(typeof SUITE_DATASETS)[number], string[]> = {
  cifar100: ["cifar-100-python", "cifar-100-python.tar.gz", "cifar-100-binary", "cifar100"],
  dtd: ["dtd"],
  caltech256: ["256_ObjectCategories", "caltech256"],
  cub200: ["CUB_200_2011", "cub200"],
};

/** Options of `kdep transfer suite`; unset protocol settings keep the paper's defaults. */
export const SuiteOptionsSchema = z
  .object({
    /** Checkpoints by label (`{ kdep: "runs/r18/student.pth" }`); "none" = random init. */
    students: z.record(z.string(), z.string()),
    /** Folder holding cifar-100-python, dtd, 256_ObjectCategories, CUB_200_2011. */
    dataRoot: z.string(),
    datasets: z
      .array(z.enum(SUITE_DATASETS))
      .min(1)
      .default([...SUITE_DATASETS]),
    backbone: z.string().default("resnet18"),
    runs: z.number().int().positive().default(2),
    out: z.string().default("runs/suite"),
    width: z.number().int().positive().optional(),
    epochs: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().optional(),
    lr: z.number().positive().optional(),
    lrStep: z.number().int().positive().optional(),
    evalEvery: z.number().int().min(0).optional(),
    imageSize: z.number().int().positive().optional(),
    resize: z.number().int().positive().optional(),
    seed: z.number().int().min(0).optional(),
    workers: z.number().int().min(0).optional(),
    device: z.string().optional(),
  })
  .strict();

/** Options of {@link runTransferSuite}. */
export type SuiteOptions = z.input<typeof SuiteOptionsSchema>;

/** What {@link runTransferSuite} wrote: the table files and every run's best top-1. */
export interface SuiteResult {
  rows: SuiteRow[];
  files: { md: string; csv: string; json: string; png: string };
}

/** "name=path,path2" → { name: path, path2's file name: path2 } (the CLI's --students). */
export function parseStudents(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list.split(",")) {
    const eq = s.indexOf("=");
    const path = eq >= 0 ? s.slice(eq + 1) : s;
    const name = eq >= 0 ? s.slice(0, eq) : basename(s).replace(/\.[^.]+$/, "");
    if (name in out) throw new Error(`Expected distinct student names but ${name} appears twice`);
    out[name] = path;
  }
  return out;
}

/** The suite: every student × dataset, `runs` fine-tunings each, then the Figure-1 table. */
export async function runTransferSuite(
  options: SuiteOptions,
  log: LogFn = stderrLog,
): Promise<SuiteResult> {
  const { students, dataRoot, datasets, backbone, runs, out, ...protocol } = validateOptions(
    SuiteOptionsSchema,
    options,
    "runTransferSuite",
  );
  const given = Object.fromEntries(Object.entries(protocol).filter(([, v]) => v !== undefined));
  const rows: SuiteRow[] = [];
  for (const [name, path] of Object.entries(students)) {
    const weights = await weightsPath(path);
    for (const dataset of datasets) {
      const dir = SUITE_DIRS[dataset].map((d) => join(dataRoot, d)).find((p) => existsSync(p));
      if (!dir)
        throw new Error(`${dataset}: none of ${SUITE_DIRS[dataset].join(", ")} under ${dataRoot}`);
      const c = TransferConfigSchema.parse({
        ...given,
        backbone,
        weights: path,
        dataset,
        data: dir,
        runs,
        out: join(out, name, dataset),
      });
      const data = await transferData(c.dataset, dir);
      const accs = (await transferRuns(c, data, weights, log)).map((r) => r.bestTop1);
      rows.push({ student: name, dataset, runs: accs });
      log(`${name} · ${dataset}: ${accs.map((a) => a.toFixed(2)).join(", ")}`);
    }
  }
  return { rows, files: await writeSuiteTable(out, rows) };
}
