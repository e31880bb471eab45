// Detection transfer: Faster R-CNN on a pre-trained backbone, trained by iterations with
// SGD (momentum, weight decay), linear warm-up and step drops per iteration, on the shared
// training loop (checkpoints, exact resume, Ctrl-C, logs); then evaluated on the val set.
import { join } from "node:path";
import type { DetDataset, DetRecord } from "../../../data/datasets/detection.js";
import { type DecodedRgb, DecodePool } from "../../../data/detDecode.js";
import { hashKey, Rng } from "../../../data/rng.js";
import { type DistGroup, shardOptions } from "../../../distributed/group.js";
import { convertSyncBatchNorm, useSyncBn } from "../../../distributed/syncBatchNorm.js";
import { atomicWriteFile } from "../../../io/atomicWrite.js";
import { FasterRcnn } from "../../../models/detection/fasterRcnn.js";
import type { Targets } from "../../../models/detection/roiHeads.js";
import { loadWeightsInto, resolveWeights } from "../../../models/weights.js";
import type { SGD } from "../../../optim/index.js";
import { type Tensor, tidy } from "../../../tensor/index.js";
import type { CheckpointValue } from "../../common/checkpoint.js";
import { type BatchSource, type RunParts, runTraining } from "../../common/run.js";
import type { DetConfig } from "./config.js";
import { trainableRecords } from "./data.js";
import { type DetMetrics, evaluateDetector } from "./evaluate.js";
import { imageTensor, targetsOf } from "./images.js";

export interface DetBatch {
  images: Tensor[];
  targets: Targets[];
  /** Each image's position in the run's stream of training images (keys its draws). */
  positions: number[];
}

/** What a detection transfer run did: its val scores, and where it wrote its files. */
export interface DetRunResult {
  /** Null when the run was stopped before its last iteration. */
  metrics: DetMetrics | null;
  /** True when stopped (Ctrl-C) before the last iteration; the same call resumes it. */
  stopped: boolean;
  /** Run time in seconds. */
  seconds: number;
  /** The run folder: checkpoint, result.json, coco_results.json, images/. */
  runDir: string;
}

/** The detector for a config, with the backbone's weights (a file) loaded, or random init. */
export function buildDetector(
  c: DetConfig,
  numClasses: number,
  weights: string | null,
  log = true,
): FasterRcnn {
  const model = new FasterRcnn({
    backbone: c.backbone,
    ...(c.width !== undefined ? { width: c.width } : {}),
    head: c.head,
    numClasses: numClasses + 1,
    transform: { minSize: c.trainSizes, maxSize: c.maxSize },
    frozenBn: c.frozenBn,
    rpn: {
      preNmsTopN: { training: c.rpnPreNms[0], testing: c.rpnPreNms[1] },
      postNmsTopN: { training: c.rpnPostNms[0], testing: c.rpnPostNms[1] },
    },
    roiHeads: { batchPerImage: c.roiBatchPerImage },
  });
  if (weights) {
    const report = loadWeightsInto(model.backbone.trunk, weights, { strict: false });
    if (log) for (const line of report) process.stderr.write(`weights: ${line}\n`);
  }
  return model;
}

/**
 * The images of global step `step` (a seeded shuffle per pass over the training images) that
 * are this rank's: `share` of them from `first` on, a consecutive slice of the global batch.
 */
function stepRecords(
  records: DetRecord[],
  c: DetConfig,
  step: number,
  first = 0,
  share = c.batchSize,
): { r: DetRecord; flip: boolean; pos: number }[] {
  const out = [];
  for (let k = first; k < first + share; k++) {
    const pos = step * c.batchSize + k;
    const pass = Math.floor(pos / records.length);
    const order = new Rng(c.seed, 7, pass).permutation(records.length);
    out.push({
      r: records[order[pos % records.length]],
      flip: new Rng(c.seed, 8, pos).random() < 0.5,
      pos,
    });
  }
  return out;
}

/**
 * Decodes the images of steps ahead on `pool`'s threads (this rank's `share` of each step
 * from `first` on); yields each step's batch in order.
 */
async function* detBatches(
  pool: DecodePool,
  records: DetRecord[],
  c: DetConfig,
  start: number,
  first: number,
  share: number,
): AsyncGenerator<DetBatch> {
  const ahead = new Map<number, Promise<DecodedRgb[]>>();
  const want = (s: number) => {
    if (s >= c.iterations || ahead.has(s)) return;
    const p = pool.decode(stepRecords(records, c, s, first, share).map((x) => x.r.file));
    p.catch(() => {}); // observed when awaited
    ahead.set(s, p);
  };
  for (let s = start; s < c.iterations; s++) {
    for (let k = s; k <= s + Math.max(1, 2 * pool.numWorkers); k++) want(k);
    const decoded = await ahead.get(s)!;
    ahead.delete(s);
    const items = stepRecords(records, c, s, first, share);
    yield {
      images: items.map(({ r, flip }, k) => {
        const img = imageTensor(r, decoded[k]);
        return flip ? img.flip(2) : img;
      }),
      targets: items.map(({ r, flip }) => targetsOf(r, flip)),
      positions: items.map((i) => i.pos),
    };
  }
}

/**
 * The size choice and the RPN's and RoI heads' samples of each image draw from a seed of
 * its own (run seed, position), so they do not depend on which images share its batch: a
 * data-parallel run samples what one process with the whole batch samples.
 */
function seedImages(model: FasterRcnn, seed: number, positions: number[]): void {
  const seeds = (stream: number) => positions.map((p) => hashKey(seed, stream, p));
  model.transform.imageSeeds = seeds(9);
  model.rpn.sampler.imageSeeds = seeds(10);
  model.roiHeads.sampler.imageSeeds = seeds(11);
}

export interface DetRunOptions {
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (as Ctrl-C would) after this many iterations of this process. */
  stopAfterSteps?: number;
  /**
   * Data-parallel group: batchSize stays global, each rank trains on its slice of every
   * step's images; SyncBatchNorm unless syncBn is false; rank 0 alone evaluates and writes.
   */
  distributed?: DistGroup;
}

/** Settings a resumed run may change: where things are, decoding threads, what the evaluation shows. */
const MAY_CHANGE_ON_RESUME = [
  "out",
  "data",
  "checkpointEvery",
  "drawImages",
  "evalImages",
  "workers",
];

export async function runDetection(
  c: DetConfig,
  data: { train: DetDataset; test: DetDataset },
  o: DetRunOptions = {},
): Promise<DetRunResult> {
  const records = trainableRecords(data.train);
  if (records.length === 0) throw new Error(`${c.data}: no training image has an object`);
  const weights = c.weights === "none" ? null : (await resolveWeights(c.weights)).path;
  const dist = o.distributed;
  const share = shardOptions(dist, c.batchSize).batchSize;
  const first = dist ? dist.rank * share : 0;
  const pool = new DecodePool(c.workers);
  const source: BatchSource<DetBatch> = {
    batchesPerEpoch: c.iterations,
    epoch: (_epoch, _signal, start) => detBatches(pool, records, c, start, first, share),
    close: () => pool.close(),
  };
  const r = await runTraining<DetBatch, RunParts<DetBatch> & { model: FasterRcnn }>({
    name: "det",
    runDir: c.out,
    seed: c.seed,
    settings: c,
    mayChangeOnResume: MAY_CHANGE_ON_RESUME,
    epochs: 1,
    source,
    optimizer: { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay },
    schedule: {
      unit: "iter",
      schedule: { kind: "multistep", milestones: c.steps, gamma: 0.1 },
      warmup: { steps: c.warmupIters, startFactor: c.warmupFactor },
    },
    checkpointEvery: c.checkpointEvery,
    progress: o.progress,
    stopAfterSteps: o.stopAfterSteps,
    distributed: dist,
    build: () => {
      const lead = !dist || dist.isLead;
      const model = buildDetector(
        c,
        data.train.classes.length,
        weights,
        lead && o.progress !== "quiet",
      );
      model.train();
      if (dist && useSyncBn(c.syncBn, dist)) convertSyncBatchNorm(model, dist);
      return {
        model,
        params: model.parameters().filter((p) => p.requiresGrad),
        step: (b, { optimizer }) => {
          seedImages(model, c.seed, b.positions);
          return detStep(model, b, optimizer);
        },
        batchSize: (b) => b.images.length,
        state: () => ({ model: model.stateDict() }) as Record<string, CheckpointValue>,
        restore: (st) => {
          model.loadStateDict(st.model as Map<string, Tensor>);
        },
      };
    },
  });
  if (r.stopped) return { metrics: null, seconds: r.seconds, runDir: c.out, stopped: true };
  // Each rank detects its shard of the val images; every rank scores them all, rank 0 writes.
  const model = r.parts.model;
  model.transform.setMinSize(c.testSize);
  const metrics = await evaluateDetector(model, data.test, c.out, {
    limit: c.evalImages || undefined,
    draw: c.drawImages,
    distributed: dist,
  });
  const out = { metrics, seconds: r.seconds, runDir: c.out, stopped: false };
  if (!dist || dist.isLead)
    atomicWriteFile(join(c.out, "result.json"), Buffer.from(`${JSON.stringify(out, null, 2)}\n`));
  return out;
}

/** One iteration: the four losses summed, backward, SGD step; the losses as numbers. */
function detStep(model: FasterRcnn, b: DetBatch, optimizer: SGD): Record<string, number> {
  return tidy(() => {
    optimizer.zeroGrad();
    const l = model.losses(b.images, b.targets);
    const total = l.lossObjectness.add(l.lossRpnBoxReg).add(l.lossClassifier).add(l.lossBoxReg);
    total.backward();
    optimizer.step();
    for (const t of [...b.images, ...b.targets.flatMap((t) => [t.boxes, t.labels])]) t.dispose();
    return {
      loss_objectness: l.lossObjectness.item(),
      loss_rpn_box_reg: l.lossRpnBoxReg.item(),
      loss_classifier: l.lossClassifier.item(),
      loss_box_reg: l.lossBoxReg.item(),
    };
  });
}
