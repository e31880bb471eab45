// Detection transfer (`kdep transfer det`) as a library call: options are the command's config
// keys, validated by its schema; keys left out take the recipe default of the dataset.
import type { z } from "zod";
import type { DistGroup } from "../distributed/group.js";
import { type DetConfig, detDefaults } from "../pipelines/transfer/detection/config.js";
import { loadDetection } from "../pipelines/transfer/detection/data.js";
import { DetSettingsSchema } from "../pipelines/transfer/detection/settings.js";
import {
  type DetRunResult,
  runDetection as detectionPipeline,
} from "../pipelines/transfer/detection/train.js";
import { validateOptions } from "./validate.js";

/**
 * Options of {@link runDetection}: the config keys of `kdep transfer det` (dataset, data,
 * backbone, head, weights, out, the schedule, sizes, …), plus the progress display. Keys left
 * out take the recipe default of `dataset` (VOC: 18k iterations, steps 12k/16k; COCO: 90k,
 * steps 60k/80k; batch 16, lr 0.02).
 */
export type DetectionOptions = z.input<typeof DetSettingsSchema> & {
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** This process's data-parallel group (see `DistGroup`): `batchSize` stays global. */
  distributed?: DistGroup;
};

/** Validated options with every recipe default filled in; throws naming a bad key. */
export function detectionConfig(options: z.input<typeof DetSettingsSchema>): DetConfig {
  const given = validateOptions(DetSettingsSchema, options, "runDetection");
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const c = detDefaults(given.dataset, defined as Partial<DetConfig>);
  if (c.head === "c4" && c.backbone === "mobilenet_v2")
    throw new Error(
      "runDetection: head c4 needs a ResNet backbone; use head fpn with mobilenet_v2",
    );
  if (c.width !== undefined && c.backbone === "mobilenet_v2")
    throw new Error("runDetection: width applies to ResNet backbones, not mobilenet_v2");
  return c;
}

/**
 * Trains Faster R-CNN (C4 or FPN) on a pre-trained backbone and evaluates it on the val set:
 * VOC07 AP50 and COCO AP, detections in COCO's results format, a few images drawn as PNG, all
 * in `out`. A run stopped before its last iteration (Ctrl-C) resumes when called again with the
 * same `out`; its result then has `metrics: null`.
 */
export async function runDetection(options: DetectionOptions): Promise<DetRunResult> {
  const { progress, distributed, ...rest } = options;
  const c = detectionConfig(rest);
  const data = await loadDetection(c.dataset, c.data, c.classes);
  return detectionPipeline(c, data, { progress, distributed });
}
