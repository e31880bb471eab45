// `kdep transfer suite` as a library call: CIFAR-100, DTD, Caltech-256 and CUB-200 for one or
// more students, each with the classification protocol of `transfer cls` → the Figure-1 table;
// detection and segmentation rows (each with its own metric) beside them on request.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { DistGroup } from "../distributed/group.js";
import { loadConfigFile } from "../io/configFile.js";
import { TransferConfigSchema } from "../pipelines/transfer/classifyConfig.js";
import { transferData } from "../pipelines/transfer/datasets.js";
import {
  SEG_DATASETS,
  SegConfigSchema,
  type SegDatasetName,
  withRecipe,
} from "../pipelines/transfer/segConfig.js";
import { writeSuiteTable } from "../report/suiteTable.js";
import type { SuiteRow } from "../report/types.js";
import { printSegResult, SEG_SUITE, segTransfer } from "./segment.js";
import { DET_SUITE, DET_SUITE_DATASETS, detectionRow, planDetection } from "./suiteDetection.js";
import { type LogFn, stderrLog } from "./teacher.js";
import { transferRuns, weightsPath } from "./transfer.js";
import { validateOptions } from "./validate.js";

/** Where each suite dataset lives under dataRoot (the names the archives unpack to). */
const SUITE = {
  cifar100: ["cifar-100-python", "cifar-100-python.tar.gz", "cifar-100-binary", "cifar100"],
  dtd: ["dtd"],
  caltech256: ["256_ObjectCategories", "caltech256"],
  cub200: ["CUB_200_2011", "cub200"],
} as const;
type SuiteDataset = keyof typeof SUITE;
const SUITE_DATASETS = Object.keys(SUITE) as SuiteDataset[];

/** Settings of `kdep transfer suite` (its flags, help and defaults come from this schema). */
export const TransferSuiteSchema = z
  .object({
    students: z
      .array(z.string().min(1))
      .min(1)
      .describe("checkpoints, name=path to label them; none = random init")
      .meta({ arg: "list" }),
    dataRoot: z
      .string()
      .describe("folder holding cifar-100-python, dtd, 256_ObjectCategories, CUB_200_2011")
      .meta({ arg: "dir" }),
    datasets: z
      .array(z.enum(SUITE_DATASETS as [SuiteDataset, ...SuiteDataset[]]))
      .default(SUITE_DATASETS)
      .describe("which of the suite's classification datasets"),
    detDatasets: z
      .array(z.enum(DET_SUITE_DATASETS))
      .default([])
      .describe(
        `detection rows under the data root: voc (${DET_SUITE.voc[0]}, VOC07 AP50), coco (${DET_SUITE.coco[0]}, COCO AP), folder (${DET_SUITE.folder[0]}, COCO AP)`,
      ),
    detConfig: z
      .string()
      .optional()
      .describe("settings of the detection runs (keys of `transfer det`, JSON or YAML)")
      .meta({ arg: "file" }),
    segDatasets: z
      .array(z.enum(SEG_DATASETS))
      .default([])
      .describe(
        "segmentation rows (mIoU %) under --data-root: VOCdevkit, cityscapes, ADEChallengeData2016, seg-folder",
      ),
    segConfig: z
      .string()
      .optional()
      .describe("JSON/YAML settings of the segmentation runs (keys of `transfer seg`)")
      .meta({ arg: "file" }),
    ...TransferConfigSchema.omit({
      dataset: true,
      data: true,
      weights: true,
      runs: true,
      out: true,
    }).shape,
    runs: z.number().int().positive().default(2).describe("runs per dataset (the paper: 2)"),
    out: z.string().default("runs/suite").describe("suite folder").meta({ arg: "dir" }),
  })
  .strict();

/** Options of {@link runTransferSuite}: the settings of `kdep transfer suite`. */
export type SuiteOptions = z.input<typeof TransferSuiteSchema>;

/** What {@link runTransferSuite} wrote: every run's best top-1 and the table files. */
export interface SuiteResult {
  rows: SuiteRow[];
  files: { md: string; csv: string; json: string; png: string };
}

/** "name=path" or "path" (named after the file) → labelled students; names must differ. */
export function parseStudents(list: readonly string[]): Array<{ name: string; path: string }> {
  const students = list.map((s) => {
    const eq = s.indexOf("=");
    const path = eq >= 0 ? s.slice(eq + 1) : s;
    const name = eq >= 0 ? s.slice(0, eq) : basename(s).replace(/\.[^.]+$/, "");
    return { name, path };
  });
  const names = students.map((s) => s.name);
  if (new Set(names).size !== names.length)
    throw new Error(`students: expected distinct names but received ${names.join(", ")}`);
  return students;
}

/** Run k of the suite's segmentation on one dataset: `transfer seg` with the file's settings. */
async function segRow(
  dataset: SegDatasetName,
  st: { name: string; path: string },
  o: {
    dataRoot: string;
    out: string;
    segConfig?: string;
    protocol: { seed: number; workers: number; device: string };
    /** Run index k: seed `seed + k`, folder `run<k>`. */
    run: number;
  },
  log: LogFn,
  distributed?: DistGroup,
) {
  const dirs = SEG_SUITE[dataset];
  const dir = dirs.map((d) => join(o.dataRoot, d)).find((p) => existsSync(p));
  if (!dir) throw new Error(`${dataset}: none of ${dirs.join(", ")} under ${o.dataRoot}`);
  // JSON is YAML too: one parser reads either kind of file.
  const file = o.segConfig ? (parseYaml(readFileSync(o.segConfig, "utf8")) ?? {}) : {};
  const parsed = SegConfigSchema.safeParse({
    ...file,
    dataset,
    data: dir,
    weights: st.path,
    out: join(o.out, st.name, `seg-${dataset}`, `run${o.run}`),
    seed: o.protocol.seed + o.run,
    workers: o.protocol.workers,
    device: o.protocol.device,
  });
  if (!parsed.success)
    throw new Error(
      `segConfig ${o.segConfig}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const c = withRecipe(parsed.data);
  const r = await segTransfer(c, null, undefined, distributed);
  if (!distributed || distributed.isLead) printSegResult(c, r, log);
  return r;
}

/**
 * The suite: every student × dataset, `runs` fine-tunings each, then the Figure-1 table.
 * With `distributed`, each run is data-parallel over the group; rank 0 logs and writes.
 */
export async function runTransferSuite(
  options: SuiteOptions,
  log: LogFn = stderrLog,
  distributed?: DistGroup,
): Promise<SuiteResult> {
  const o = validateOptions(TransferSuiteSchema, options, "runTransferSuite");
  const lead = !distributed || distributed.isLead;
  if (!lead) log = () => {};
  const { students: list, dataRoot, datasets, out, ...rest } = o;
  const { detDatasets, detConfig, segDatasets, segConfig, ...protocol } = rest;
  if (datasets.length + detDatasets.length + segDatasets.length === 0)
    throw new Error("datasets, detDatasets and segDatasets are all empty: nothing to run");
  const detFile = detConfig ? loadConfigFile(detConfig) : {};
  const detSettings = { ...detFile, seed: detFile.seed ?? protocol.seed };
  const detPlans = DET_SUITE_DATASETS.filter((d) => detDatasets.includes(d)).map((d) =>
    planDetection(d, dataRoot, detSettings, detConfig),
  );
  const rows: SuiteRow[] = [];
  for (const st of parseStudents(list)) {
    const weights = await weightsPath(st.path);
    for (const dataset of SUITE_DATASETS.filter((d) => datasets.includes(d))) {
      const dirs = SUITE[dataset];
      const dir = dirs.map((d) => join(dataRoot, d)).find((p) => existsSync(p));
      if (!dir) throw new Error(`${dataset}: none of ${dirs.join(", ")} under ${dataRoot}`);
      const c = TransferConfigSchema.parse({
        ...protocol,
        weights: st.path,
        dataset,
        data: dir,
        out: join(out, st.name, dataset),
      });
      const data = await transferData(c.dataset, dir);
      const runs = await transferRuns(c, data, weights, log, undefined, distributed);
      const accs = runs.map((r) => r.bestTop1);
      rows.push({ student: st.name, dataset, runs: accs });
      log(`${st.name} · ${dataset}: ${accs.map((a) => a.toFixed(2)).join(", ")}`);
    }
    // Dense rows get `runs` runs too, run k seeded `seed + k` into `run<k>/`, as classification.
    for (const plan of detPlans) {
      const row = await detectionRow(plan, st, join(out, st.name), protocol.runs, distributed);
      rows.push(row);
      log(
        `${st.name} · ${row.dataset} ${row.metric}: ${row.runs.map((a) => a.toFixed(2)).join(", ")}`,
      );
    }
    for (const dataset of SEG_DATASETS.filter((d) => segDatasets.includes(d))) {
      const runs: number[] = [];
      for (let k = 0; k < protocol.runs; k++) {
        const seg = { dataRoot, out, segConfig, protocol, run: k };
        const r = await segRow(dataset, st, seg, log, distributed);
        runs.push(100 * r.bestMIoU);
      }
      rows.push({ student: st.name, dataset, task: "segmentation", metric: "mIoU", runs });
    }
  }
  if (!lead) {
    const at = (ext: string) => join(out, `suite.${ext}`);
    return { rows, files: { md: at("md"), csv: at("csv"), json: at("json"), png: at("png") } };
  }
  return { rows, files: await writeSuiteTable(out, rows) };
}
