// `kdep transfer seg` as a library call (also the suite's segmentation rows): one PSPNet
// transfer run with the backbone loaded from any checkpoint kdep reads, and its summary.
// runSegmentation takes the command's config keys, validated by its schema.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import type { DistGroup } from "../distributed/group.js";
import { fromRaw } from "../io/tensors.js";
import { PSPNet } from "../models/pspnet.js";
import { resolveWeights } from "../models/weights.js";
import { readSource } from "../pipelines/convert/source.js";
import {
  type SegConfig,
  SegConfigSchema,
  type SegDatasetName,
  withRecipe,
} from "../pipelines/transfer/segConfig.js";
import { segData } from "../pipelines/transfer/segData.js";
import {
  type SegmentResult,
  runSegmentation as segmentPipeline,
} from "../pipelines/transfer/segment.js";
import { type LogFn, stderrLog } from "./teacher.js";
import { validateOptions } from "./validate.js";

/**
 * Options of {@link runSegmentation}: the config keys of `kdep transfer seg` (dataset, data,
 * backbone, weights, out, the schedule, crop, evaluation, …), plus the progress display. Keys
 * left out take the recipe default of `dataset` and `backbone` (epochs, lr, aux weight, scale
 * range, eval size: VOC 50 epochs, Cityscapes 200, ADE20K 100, lr 0.01, aux weight 0.4).
 */
export type SegmentationOptions = z.input<typeof SegConfigSchema> & {
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** This process's data-parallel group (see `DistGroup`): `batchSize` stays global. */
  distributed?: DistGroup;
};

/** The backbone's weights in torchvision keys (MobileNetV2 reference layouts renamed). */
function backboneState(path: string) {
  const { stateDict } = readSource(path);
  return new Map([...stateDict].map(([k, v]) => [k, fromRaw(v)]));
}

/**
 * Runs one segmentation transfer; "none" (or no weights) is a random init. With
 * `distributed`, this process is one rank of a data-parallel run (batchSize stays global).
 */
export async function segTransfer(
  c: SegConfig,
  log: LogFn | null = stderrLog,
  progress?: SegmentationOptions["progress"],
  distributed?: DistGroup,
): Promise<SegmentResult> {
  if (!c.data) throw new Error("transfer seg needs data (--data)");
  const data = await segData(c.dataset, c.data, { trainList: c.trainList });
  const weights = c.weights && c.weights !== "none" ? (await resolveWeights(c.weights)).path : null;
  const lead = !distributed || distributed.isLead;
  return segmentPipeline({
    config: c,
    data,
    progress,
    distributed,
    createModel: () => {
      const m = new PSPNet({
        backbone: c.backbone,
        numClasses: data.classes.length,
        width: c.width,
        headChannels: c.headChannels,
        dropout: c.dropout,
      });
      if (weights) {
        const sd = backboneState(weights);
        const head = m.loadBackbone(sd, weights);
        for (const t of sd.values()) t.dispose();
        if (log && lead && head.length)
          log(`weights: left out the classifier (${head.join(", ")})`);
      }
      return m;
    },
  });
}

/**
 * Fine-tunes a PSPNet (pyramid pooling and heads new, backbone from `weights`) on a
 * segmentation dataset with KDEP's recipe and evaluates it (sliding windows, mIoU) on the val
 * set. The run folder `out` gets model.pth and best.pth (the PSPNet's state dict, which
 * `kdep export --to onnx --input-size HxW` reads), result.json, per_class.md, confusion.csv
 * and predictions/. A run stopped early (Ctrl-C) resumes when called again with the same
 * `out`; its result then has `stopped: true`. `log` gets one line per note on the weights.
 */
export async function runSegmentation(
  options: SegmentationOptions,
  log: LogFn | null = stderrLog,
): Promise<SegmentResult> {
  const { progress, distributed, ...rest } = options;
  const given = validateOptions(SegConfigSchema, rest, "runSegmentation");
  if (!given.data) throw new Error("runSegmentation: data (the dataset's root) is required");
  let c: SegConfig;
  try {
    c = withRecipe(given);
  } catch (e) {
    throw new Error(`runSegmentation: ${(e as Error).message}`);
  }
  return segTransfer(c, log, progress, distributed);
}

export function printSegResult(
  c: Pick<SegConfig, "dataset">,
  r: SegmentResult,
  log: LogFn = stderrLog,
): void {
  const pct = (v: number) => (100 * v).toFixed(2);
  if (r.stopped) {
    log(`stopped after epoch ${r.epochs}; run again with the same --out to resume`);
    return;
  }
  const table = join(r.runDir, "per_class.md");
  if (existsSync(table)) log(readFileSync(table, "utf8"));
  log(
    `${c.dataset}: best mIoU ${pct(r.bestMIoU)} (epoch ${r.bestEpoch}), final mIoU ${pct(r.finalMIoU)}, pixel accuracy ${pct(r.finalPixelAcc)} — ${r.runDir}/result.json, per_class.md, confusion.csv, predictions/`,
  );
}

/** Where each segmentation dataset lives under the suite's --data-root. */
export const SEG_SUITE: Record<SegDatasetName, string[]> = {
  voc: ["VOCdevkit", "VOC2012", "voc"],
  cityscapes: ["cityscapes", "Cityscapes"],
  ade20k: ["ADEChallengeData2016", "ade20k"],
  folder: ["seg-folder", "segfolder"],
};
