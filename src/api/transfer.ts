// Classification transfer (`kdep transfer cls`) as a library call: options are the command's
// config keys, validated by its schema; `runs` fine-tunings with seeds seed, seed+1, ….

import type { z } from "zod";
import type { DistGroup } from "../distributed/group.js";
import { createModel } from "../models/registry.js";
import { createModelWithWeights, resolveWeights } from "../models/weights.js";
import {
  type ClassifyResult,
  runClassification as classifyPipeline,
} from "../pipelines/transfer/classify.js";
import { type TransferConfig, TransferConfigSchema } from "../pipelines/transfer/classifyConfig.js";
import {
  type TransferData,
  transferData,
  transferTransforms,
} from "../pipelines/transfer/datasets.js";
import { type LogFn, stderrLog } from "./teacher.js";
import { validateOptions } from "./validate.js";

/**
 * Options of {@link runClassification}: the config keys of `kdep transfer cls`, plus the progress
 * display.
 */
export type ClassificationOptions = z.input<typeof TransferConfigSchema> & {
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** This process's data-parallel group (see `DistGroup`): `batchSize` stays global. */
  distributed?: DistGroup;
};

/** "none" (or no weights at all) means a random init drawn from the run's seed. */
export async function weightsPath(spec: string | undefined): Promise<string | null> {
  if (!spec || spec === "none") return null;
  return (await resolveWeights(spec)).path;
}

/** `c.runs` fine-tunings of a backbone (fresh weights each run) on one dataset. */
export async function transferRuns(
  c: TransferConfig,
  data: TransferData,
  weights: string | null,
  log: LogFn = stderrLog,
  progress?: ClassificationOptions["progress"],
  distributed?: DistGroup,
): Promise<ClassifyResult[]> {
  const t = transferTransforms(c, data.mean, data.std);
  const results: ClassifyResult[] = [];
  for (let run = 0; run < c.runs; run++) {
    // Built inside the run, after its seed: a random init is then the run's own.
    const createBackbone = () => {
      const opts = { numClasses: 0, ...(c.width ? { width: c.width } : {}) };
      if (!weights) return createModel(c.backbone, opts);
      // Built at the width the weights were trained at (ResNet width, MobileNetV2 multiplier).
      const { model, report } = createModelWithWeights(c.backbone, opts, weights, {
        strict: false,
      });
      if (run === 0 && (!distributed || distributed.isLead))
        for (const line of report) log(`weights: ${line}`);
      return model;
    };
    results.push(
      await classifyPipeline({
        config: c,
        createBackbone,
        numClasses: data.numClasses,
        train: data.train,
        test: data.test,
        trainTransform: t.train,
        testTransform: t.test,
        run,
        progress,
        distributed,
      }),
    );
  }
  return results;
}

/** Fine-tunes (or linear-probes) a backbone on one dataset, `runs` times; one result per run. */
export async function runClassification(
  options: ClassificationOptions,
  log: LogFn = stderrLog,
): Promise<ClassifyResult[]> {
  const { progress, distributed, ...rest } = options;
  const c = validateOptions(TransferConfigSchema, rest, "runClassification");
  if (!c.data) throw new Error("classification transfer needs data (the dataset's root)");
  const data = await transferData(c.dataset, c.data);
  return transferRuns(c, data, await weightsPath(c.weights), log, progress, distributed);
}
