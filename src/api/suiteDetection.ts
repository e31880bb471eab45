// The suite's detection rows: one `transfer det` run per (student, dataset) with the settings
// of a config file, scored with the dataset's own metric (VOC07 AP50 on VOC, COCO AP else).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DistGroup } from "../distributed/group.js";
import type { DetDatasetKind } from "../pipelines/transfer/detection/data.js";
import { DetSettingsSchema } from "../pipelines/transfer/detection/settings.js";
import type { SuiteRow } from "../report/types.js";
import { type DetectionOptions, detectionConfig, runDetection } from "./detection.js";
import { validateOptions } from "./validate.js";

/** Where each detection dataset lives under the suite's data root. */
export const DET_SUITE: Record<DetDatasetKind, string[]> = {
  voc: ["VOCdevkit", "voc"],
  coco: ["coco", "COCO"],
  folder: ["det-folder", "detfolder"],
};
export const DET_SUITE_DATASETS = ["voc", "coco", "folder"] as const;

/** The metric a detection row reports: VOC's protocol on VOC, COCO's elsewhere. */
export const detMetricName = (d: DetDatasetKind) => (d === "voc" ? "VOC07 AP50" : "COCO AP");

/** One detection dataset of the suite, its folder found and its settings checked. */
export interface DetPlan {
  dataset: DetDatasetKind;
  options: DetectionOptions;
}

/**
 * Finds the dataset under the data root and checks the settings (keys of `transfer det`) before
 * any run starts; a bad key is reported naming `file`.
 */
export function planDetection(
  dataset: DetDatasetKind,
  dataRoot: string,
  settings: Record<string, unknown>,
  file?: string,
): DetPlan {
  const dirs = DET_SUITE[dataset];
  const dir = dirs.map((d) => join(dataRoot, d)).find((p) => existsSync(p));
  if (!dir) throw new Error(`detection ${dataset}: none of ${dirs.join(", ")} under ${dataRoot}`);
  try {
    const options = validateOptions(
      DetSettingsSchema,
      { ...settings, dataset, data: dir },
      "runDetection",
    );
    detectionConfig(options);
    return { dataset, options };
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid options for runDetection:\n\s*/, "");
    throw new Error(`${file ? `detConfig ${file}` : "detection settings"}: ${why}`);
  }
}

/**
 * Runs detection transfer for one student on one planned dataset, `runs` times (run k seeded
 * with the plan's seed + k, into `det-<dataset>/run<k>/`); its row of the table.
 */
export async function detectionRow(
  plan: DetPlan,
  student: { name: string; path: string },
  studentOut: string,
  runs = 1,
  distributed?: DistGroup,
): Promise<SuiteRow> {
  const { dataset } = plan;
  const scores: number[] = [];
  for (let k = 0; k < runs; k++) {
    const out = join(studentOut, `det-${dataset}`, `run${k}`);
    const seed = (plan.options.seed ?? 0) + k;
    const options = { ...plan.options, seed, weights: student.path, out, distributed };
    const r = await runDetection(options);
    if (!r.metrics)
      throw new Error(`detection ${dataset} for ${student.name} stopped before its end`);
    scores.push(dataset === "voc" ? r.metrics.vocMap50 : r.metrics.AP);
  }
  return {
    student: student.name,
    dataset,
    task: "detection",
    metric: detMetricName(dataset),
    runs: scores,
  };
}
