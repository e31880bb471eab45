// Segmentation transfer: a PSPNet on a pre-trained backbone, trained with
// the recipe (poly lr per iteration, 10× head lr, CE + aux), evaluated with sliding windows
// every N epochs over the whole val set; the best checkpoint is kept (best.pth) beside the
// final one (model.pth), and result.json reports both with the epoch of the best.
import { join } from "node:path";
import type { Batch } from "../../data/loader.js";
import { segTrainTransform } from "../../data/transforms/segmentation.js";
import type { DistGroup } from "../../distributed/group.js";
import { convertSyncBatchNorm, useSyncBn } from "../../distributed/syncBatchNorm.js";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import { saveStateDict } from "../../io/tensors.js";
import type { PSPNet } from "../../models/pspnet.js";
import { logicalAnd, maskedSelect, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { runTraining } from "../common/run.js";
import type { TrainResult } from "../common/trainLoop.js";
import type { SegConfig } from "./segConfig.js";
import type { SegData } from "./segData.js";
import { evaluateSegmentation } from "./segEval.js";
import type { SegMetrics } from "./segMetrics.js";
import { segTrainStep } from "./segStep.js";

export interface SegmentInputs {
  config: SegConfig;
  /** Builds the PSPNet and loads the backbone; called after the run's seed is set. */
  createModel: () => PSPNet;
  data: SegData;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (as Ctrl-C does) after this many steps. */
  stopAfterSteps?: number;
  /**
   * Data-parallel group (src/distributed): batchSize stays global; SyncBatchNorm unless
   * config.syncBn is false; each rank evaluates its shard of the val set, rank 0 alone writes.
   */
  distributed?: DistGroup;
}

/** What a segmentation transfer run returns (result.json's content, plus the model). */
export interface SegmentResult {
  bestMIoU: number;
  bestEpoch: number;
  finalMIoU: number;
  finalPixelAcc: number;
  finalMeanAcc: number;
  perClassIoU: Record<string, number>;
  epochs: number;
  stopped: boolean;
  seconds: number;
  runDir: string;
  history: Array<{ epoch: number } & Record<string, number>>;
  model: PSPNet;
}

const MAY_CHANGE_ON_RESUME = [
  "out",
  "data",
  "workers",
  "device",
  "evalEvery",
  "saveImages",
  "saveLabels",
];

function trainLoaderOptions(c: SegConfig, data: SegData) {
  return {
    dataset: data.train,
    batchSize: c.batchSize,
    transform: segTrainTransform({
      crop: c.crop,
      scale: [c.scaleMin, c.scaleMax],
      degrees: [-c.rotate, c.rotate],
      photoMetric: c.photometric,
    }),
    shuffle: true,
    dropLast: data.train.length >= c.batchSize, // semseg drops the last partial batch
    numWorkers: c.workers,
  };
}

/** A label ≥ classes (not 255) would stop libtorch's loss with no file named: name it here. */
function checkLabels(masks: Tensor, classes: number, indices: Int32Array, data: SegData): void {
  const bad = logicalAnd(masks.ne(255), masks.ge(classes));
  const perSample = bad.flatten(1).sum(1).toTypedArray() as BigInt64Array;
  const k = perSample.findIndex((v) => v > 0n);
  if (k < 0) return;
  const file = data.train.spec.masks?.[indices[k]] ?? `sample ${indices[k]}`;
  const value = maskedSelect(masks.select(0, k), bad.select(0, k)).max().item();
  throw new Error(`Label mask ${file} holds ${value}; expected 0..${classes - 1} or 255 (ignore)`);
}

/** result.json's content: best and final evaluation, per-class IoU of the final one. */
function summary(
  classes: string[],
  best: { miou: number; epoch: number },
  fin: SegMetrics | null,
  r: TrainResult,
  runDir: string,
): Omit<SegmentResult, "model"> {
  return {
    bestMIoU: best.miou,
    bestEpoch: best.epoch,
    finalMIoU: fin?.mIoU ?? Number.NaN,
    finalPixelAcc: fin?.pixelAcc ?? Number.NaN,
    finalMeanAcc: fin?.meanAcc ?? Number.NaN,
    perClassIoU: Object.fromEntries(classes.map((n, i) => [n, fin ? fin.iou[i] : Number.NaN])),
    epochs: r.epochsDone,
    stopped: r.stopped,
    seconds: r.seconds,
    runDir,
    history: r.history,
  };
}

export async function runSegmentation(inputs: SegmentInputs): Promise<SegmentResult> {
  const c = inputs.config;
  const runDir = c.out;
  const dist = inputs.distributed;
  const lead = !dist || dist.isLead;
  const sliding = {
    crop: [c.crop, c.crop] as [number, number],
    baseSize: c.baseSize,
    scales: c.evalScales,
    flip: c.evalFlip,
    workers: c.workers,
    device: c.device,
    progress: lead && inputs.progress !== "quiet",
  };
  let last: SegMetrics | null = null;
  let best = { miou: -1, epoch: 0 };
  const evaluate = async (model: PSPNet, epoch: number) => {
    const final = epoch === c.epochs;
    // Every rank evaluates its shard; rank 0 alone writes (the others send it their pictures).
    const { metrics } = await evaluateSegmentation(model, inputs.data.val, {
      ...sliding,
      distributed: dist,
      ...(final ? { outDir: runDir, saveImages: c.saveImages, saveLabels: c.saveLabels } : {}),
    });
    model.train();
    last = metrics;
    return {
      miou: metrics.mIoU,
      miou_present: metrics.mIoUPresent,
      pixel_acc: metrics.pixelAcc,
      mean_acc: metrics.meanAcc,
    };
  };
  const result = await runTraining({
    name: "seg",
    runDir,
    seed: c.seed,
    settings: c,
    mayChangeOnResume: MAY_CHANGE_ON_RESUME,
    epochs: c.epochs,
    evalEvery: c.evalEvery,
    data: trainLoaderOptions(c, inputs.data),
    optimizer: { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay },
    // The recipe's poly schedule, set every iteration, reaching 0 at the run's last step.
    schedule: ({ epochs, stepsPerEpoch }) => ({
      unit: "iter",
      schedule: { kind: "poly", maxSteps: epochs * stepsPerEpoch, power: c.power },
    }),
    build: () => {
      const model = inputs.createModel();
      model.to(c.device);
      model.train();
      if (dist && useSyncBn(c.syncBn, dist)) convertSyncBatchNorm(model, dist);
      const groups = model.paramGroups();
      return {
        model,
        params: [{ params: groups.backbone }, { params: groups.head, lr: c.lr * c.headLrMult }],
        step: (b: Batch, { optimizer }) =>
          tidy(() => {
            const indices = b.indices;
            const { images, masks } = toTensors(b, c.device);
            checkLabels(masks!, model.numClasses, indices, inputs.data);
            return segTrainStep(model, optimizer, images, masks!, c.auxWeight, dist);
          }),
        evaluate: async (epoch: number) => {
          const r = await evaluate(model, epoch);
          if (r.miou > best.miou) {
            best = { miou: r.miou, epoch };
            if (lead) saveStateDict(join(runDir, "best.pth"), model.stateDict());
          }
          return { ...r, best_miou: best.miou };
        },
        state: () => ({ model: model.stateDict() }) as Record<string, CheckpointValue>,
        restore: (st: Record<string, CheckpointValue>) => {
          model.loadStateDict(st.model as Map<string, Tensor>);
        },
      };
    },
    progress: inputs.progress,
    stopAfterSteps: inputs.stopAfterSteps,
    distributed: dist,
  });
  const model = result.parts.model;
  for (const h of result.history)
    if (typeof h.miou === "number" && h.miou > best.miou) best = { miou: h.miou, epoch: h.epoch };
  if (!result.stopped) {
    if (lead) saveStateDict(join(runDir, "model.pth"), model.stateDict());
    // No evaluation at the last epoch (evalEvery 0, or resumed after it): one now.
    if (last === null || result.history.at(-1)?.miou === undefined) await evaluate(model, c.epochs);
  }
  const out = summary(inputs.data.classes, best, last as SegMetrics | null, result, runDir);
  if (!result.stopped && lead) {
    const json = Buffer.from(`${JSON.stringify(out, null, 2)}\n`, "utf8");
    atomicWriteFile(join(runDir, "result.json"), json);
  }
  return { ...out, model };
}
