// Detection transfer: Faster R-CNN on a pre-trained backbone, trained by iterations with
// SGD (momentum, weight decay), linear warm-up and step drops per iteration, on the shared
// training loop (checkpoints, exact resume, Ctrl-C, logs); then evaluated on the val set.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DetDataset, DetRecord } from "../../../data/datasets/detection.js";
import { Rng } from "../../../data/rng.js";
import { FasterRcnn } from "../../../models/detection/fasterRcnn.js";
import type { Targets } from "../../../models/detection/roiHeads.js";
import { loadWeightsInto, resolveWeights } from "../../../models/weights.js";
import { LRScheduler, SGD } from "../../../optim/index.js";
import { manualSeed, type Tensor, tidy } from "../../../tensor/index.js";
import type { CheckpointValue } from "../../common/checkpoint.js";
import { train } from "../../common/trainLoop.js";
import type { DetConfig } from "./config.js";
import { trainableRecords } from "./data.js";
import { type DetMetrics, evaluateDetector } from "./evaluate.js";
import { loadImage, targetsOf } from "./images.js";

export interface DetBatch {
  images: Tensor[];
  targets: Targets[];
}

export interface DetRunResult {
  /** Null when the run was stopped before its last iteration. */
  metrics: DetMetrics | null;
  stopped: boolean;
  seconds: number;
  runDir: string;
}

/** The detector for a config, with the backbone's weights loaded (or a seeded random init). */
export async function buildDetector(
  c: DetConfig,
  numClasses: number,
  log = true,
): Promise<FasterRcnn> {
  const model = new FasterRcnn({
    backbone: c.backbone,
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
  if (c.weights !== "none") {
    const path = (await resolveWeights(c.weights)).path;
    const report = loadWeightsInto(model.backbone.trunk, path, { strict: false });
    if (log) for (const line of report) process.stderr.write(`weights: ${line}\n`);
  }
  return model;
}

/** The images of global step `step`: a seeded shuffle per pass over the training images. */
function stepRecords(
  records: DetRecord[],
  c: DetConfig,
  step: number,
): { r: DetRecord; flip: boolean }[] {
  const out = [];
  for (let k = 0; k < c.batchSize; k++) {
    const pos = step * c.batchSize + k;
    const pass = Math.floor(pos / records.length);
    const order = new Rng(c.seed, 7, pass).permutation(records.length);
    out.push({
      r: records[order[pos % records.length]],
      flip: new Rng(c.seed, 8, pos).random() < 0.5,
    });
  }
  return out;
}

async function loadBatch(items: { r: DetRecord; flip: boolean }[]): Promise<DetBatch> {
  const images: Tensor[] = [];
  const targets: Targets[] = [];
  for (const { r, flip } of items) {
    const img = await loadImage(r);
    images.push(flip ? img.flip(2) : img);
    targets.push(targetsOf(r, flip));
  }
  return { images, targets };
}

export interface DetRunOptions {
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (as Ctrl-C would) after this many iterations of this process. */
  stopAfterSteps?: number;
}

export async function runDetection(
  c: DetConfig,
  data: { train: DetDataset; test: DetDataset },
  o: DetRunOptions = {},
): Promise<DetRunResult> {
  manualSeed(c.seed);
  const model = await buildDetector(c, data.train.classes.length);
  const records = trainableRecords(data.train);
  if (records.length === 0) throw new Error(`${c.data}: no training image has an object`);
  const runDir = c.out;
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, "config.json"), `${JSON.stringify(c, null, 2)}\n`);
  const params = model.parameters().filter((p) => p.requiresGrad);
  const optimizer = new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const scheduler = new LRScheduler(
    optimizer.paramGroups,
    { kind: "multistep", milestones: c.steps, gamma: 0.1 },
    { steps: c.warmupIters, startFactor: c.warmupFactor },
  );
  model.train();
  const result = await train<DetBatch>({
    name: "det",
    runDir,
    epochs: 1,
    stepsPerEpoch: c.iterations,
    batches: async function* (_epoch, start) {
      for (let s = start; s < c.iterations; s++) yield await loadBatch(stepRecords(records, c, s));
    },
    batchSize: (b) => b.images.length,
    trainStep: (b) =>
      tidy(() => {
        optimizer.zeroGrad();
        const l = model.losses(b.images, b.targets);
        const total = l.lossObjectness.add(l.lossRpnBoxReg).add(l.lossClassifier).add(l.lossBoxReg);
        total.backward();
        optimizer.step();
        for (const t of [...b.images, ...b.targets.flatMap((t) => [t.boxes, t.labels])])
          t.dispose();
        return {
          loss_objectness: l.lossObjectness.item(),
          loss_rpn_box_reg: l.lossRpnBoxReg.item(),
          loss_classifier: l.lossClassifier.item(),
          loss_box_reg: l.lossBoxReg.item(),
        };
      }),
    optimizer,
    scheduler,
    scheduleUnit: "iter",
    state: () => ({ model: model.stateDict() }) as Record<string, CheckpointValue>,
    restore: (s) => {
      model.loadStateDict(s.model as Map<string, Tensor>);
    },
    checkpointEvery: c.checkpointEvery,
    progress: o.progress,
    stopAfterSteps: o.stopAfterSteps,
  });
  if (result.stopped) return { metrics: null, seconds: result.seconds, runDir, stopped: true };
  model.transform.setMinSize(c.testSize);
  const metrics = await evaluateDetector(model, data.test, runDir, {
    limit: c.evalImages || undefined,
    draw: c.drawImages,
  });
  const out = { metrics, seconds: result.seconds, runDir, stopped: false };
  writeFileSync(join(runDir, "result.json"), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}
