// Classification transfer (kdep-method.md §7): a new Linear head on a pre-trained backbone,
// everything fine-tuned (or a linear probe), evaluated every N epochs; the reported number is
// the best top-1 over those evaluations, with the final one beside it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { type DistGroup, shardOptions } from "../../distributed/group.js";
import type { Backbone } from "../../models/backbone.js";
import { F } from "../../nn/index.js";
import { LRScheduler, SGD } from "../../optim/index.js";
import { manualSeed, noGrad, type Tensor, tidy } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import type { CheckpointValue } from "../common/checkpoint.js";
import { checkResumable } from "../common/resume.js";
import { CHECKPOINT_FILE, train } from "../common/trainLoop.js";
import type { TransferConfig } from "./classifyConfig.js";
import { ClassificationMeter } from "./metrics.js";

export interface ClassifyInputs {
  config: TransferConfig;
  /**
   * Builds the backbone and loads its pre-trained weights (its head is then replaced). Called
   * after the run's seed is set: a random init (or any weight the file lacks) is drawn from
   * that seed, not from the global generator, which libtorch seeds randomly at start-up.
   */
  createBackbone: () => Backbone;
  numClasses: number;
  train: Dataset;
  test: Dataset;
  trainTransform: TransformStep[];
  testTransform: TransformStep[];
  /** Which run of `runs` this is: seeds and the run folder follow it. */
  run?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Data-parallel group (src/distributed): config.batchSize stays the global batch. */
  distributed?: DistGroup;
}

export interface ClassifyResult {
  bestTop1: number;
  finalTop1: number;
  finalTop5: number;
  finalMeanPerClass: number;
  bestEpoch: number;
  seconds: number;
  runDir: string;
  history: Array<{ epoch: number } & Record<string, number>>;
  /** The trained model (not written to result.json). */
  model: Backbone;
}

export async function evaluateClassifier(
  model: Backbone,
  data: Dataset,
  transform: TransformStep[],
  numClasses: number,
  o: { batchSize?: number; workers?: number; device?: string } = {},
) {
  const loader = new DataLoader(data, {
    batchSize: o.batchSize ?? 128,
    transform,
    numWorkers: o.workers ?? 2,
    labelDtype: "int64",
  });
  const meter = new ClassificationMeter(numClasses);
  const wasTraining = model.training;
  model.eval();
  try {
    for await (const b of loader.epoch(0)) {
      tidy(() =>
        noGrad(() => {
          const { images, labels } = toTensors(b, o.device);
          meter.add(model.forward(images), labels);
        }),
      );
    }
  } finally {
    await loader.close();
    model.train(wasTraining);
  }
  return meter.result();
}

/** Settings a resumed transfer run may change: where things are, how fast, how many runs. */
const MAY_CHANGE_ON_RESUME = new Set([
  "out",
  "data",
  "workers",
  "device",
  "runs",
  "epochs",
  "evalEvery",
]);

export async function runClassification(inputs: ClassifyInputs): Promise<ClassifyResult> {
  const c = inputs.config;
  const run = inputs.run ?? 0;
  const seed = c.seed + run;
  // Before the backbone exists: its random init, the new head and any dropout all draw from
  // this seed, never from what earlier work left in the global generator.
  manualSeed(seed);
  const model = inputs.createBackbone();
  model.preReluFeature = false; // transfer uses the standard network (§2)
  model.resetClassifier(inputs.numClasses);
  model.to(c.device);
  const probe = c.mode === "linear-probe";
  if (probe) model.requiresGrad_(false);
  const params = probe
    ? model.getModule(headName(model))!.requiresGrad_(true).parameters()
    : model.parameters();

  const runDir = join(c.out, `run${run}`);
  const record = join(runDir, "config.json");
  const settings = { ...c, run, seed };
  // A run folder with a checkpoint is continued (the suite picks up where it stopped), but
  // only with the settings it was started with.
  if (existsSync(join(runDir, CHECKPOINT_FILE)) && existsSync(record))
    checkResumable(
      JSON.parse(readFileSync(record, "utf8")),
      settings,
      record,
      MAY_CHANGE_ON_RESUME,
    );
  const dist = inputs.distributed;
  const lead = !dist || dist.isLead;
  if (dist) {
    const { workers, device, ...shared } = settings;
    dist.checkSame("transfer settings", JSON.stringify(shared));
    dist.barrier(); // every rank has read the old record before rank 0 replaces it
  }
  if (lead) {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(record, `${JSON.stringify(settings, null, 2)}\n`);
  }

  const loader = new DataLoader(inputs.train, {
    ...shardOptions(dist, c.batchSize),
    transform: inputs.trainTransform,
    shuffle: true,
    seed,
    dropLast: false,
    numWorkers: c.workers,
    labelDtype: "int64",
  });
  const optimizer = new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const scheduler = new LRScheduler(optimizer.paramGroups, {
    kind: "step",
    stepSize: c.lrStep,
    gamma: c.lrGamma,
  });
  const setMode = () => {
    model.train();
    if (probe) model.eval(); // a probe keeps the backbone's BN statistics frozen
  };
  setMode();
  let best = { top1: -1, epoch: 0 };
  let last = { top1: 0, top5: 0, meanPerClass: 0 };
  try {
    const result = await train({
      name: "transfer",
      runDir,
      epochs: c.epochs,
      stepsPerEpoch: loader.batchesPerEpoch,
      batches: (e, start) => loader.epoch(e, undefined, start),
      batchSize: (b) => b.shape[0],
      trainStep: (b) =>
        tidy(() => {
          const { images, labels } = toTensors(b, c.device);
          optimizer.zeroGrad();
          const loss = F.crossEntropy(model.forward(images), labels);
          loss.backward();
          optimizer.step();
          return { ce: loss.item() };
        }),
      optimizer,
      scheduler,
      scheduleUnit: "epoch",
      evalEvery: c.evalEvery,
      evaluate: async (epoch) => {
        const r = await evaluateClassifier(
          model,
          inputs.test,
          inputs.testTransform,
          inputs.numClasses,
          {
            workers: c.workers,
            device: c.device,
          },
        );
        setMode();
        last = r;
        if (r.top1 > best.top1) best = { top1: r.top1, epoch };
        return { top1: r.top1, top5: r.top5, mean_per_class: r.meanPerClass, best_top1: best.top1 };
      },
      state: () => ({ model: model.stateDict() }) as Record<string, CheckpointValue>,
      restore: (s) => {
        model.loadStateDict(s.model as Map<string, Tensor>);
      },
      progress: inputs.progress,
      distributed: dist,
    });
    // After a resume the best so far comes from the history.
    for (const h of result.history) {
      if (typeof h.top1 === "number" && h.top1 > best.top1) best = { top1: h.top1, epoch: h.epoch };
    }
    const lastEval = result.history.filter((h) => typeof h.top1 === "number").pop();
    if (lastEval)
      last = { top1: lastEval.top1, top5: lastEval.top5, meanPerClass: lastEval.mean_per_class };
    const out: Omit<ClassifyResult, "model"> = {
      bestTop1: best.top1,
      finalTop1: last.top1,
      finalTop5: last.top5,
      finalMeanPerClass: last.meanPerClass,
      bestEpoch: best.epoch,
      seconds: result.seconds,
      runDir,
      history: result.history,
    };
    if (lead) writeFileSync(join(runDir, "result.json"), `${JSON.stringify(out, null, 2)}\n`);
    return { ...out, model };
  } finally {
    await loader.close();
  }
}

function headName(model: Backbone): string {
  for (const n of ["fc", "classifier"]) if (model.getModule(n)) return n;
  throw new Error("Linear probe: the model has no fc/classifier head");
}
