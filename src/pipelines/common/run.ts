// The run skeleton every training pipeline stands on. It owns the steps they share, in
// this order: seed → build the models → check/record the settings → loader → SGD with a
// schedule → (optional) a first pass before epoch 1 → `train()` → close. A pipeline
// supplies only what is its own, through `build()`: its models, the parameters to
// optimise, the step (its losses, written out in the pipeline's file), evaluation and
// what it saves. How a new pipeline uses it:
//
//   const r = await runTraining({
//     name: "seg", runDir, seed, settings: c, mayChangeOnResume: ["out", "workers", …],
//     epochs: c.epochs, evalEvery: c.evalEvery,
//     data: { dataset, batchSize, transform, shuffle: true, dropLast: true, numWorkers },
//     optimizer: { lr: c.lr, momentum: 0.9, weightDecay: 1e-4 },
//     schedule: ({ epochs, stepsPerEpoch }) => ({
//       unit: "iter", schedule: { kind: "poly", maxSteps: epochs * stepsPerEpoch } }),
//     build: () => {                       // called after manualSeed(seed)
//       const model = buildPspNet(…);
//       return {
//         model,
//         params: [{ params: backboneParams }, { params: headParams, lr: 10 * c.lr }],
//         step: (b, { optimizer }) => { …; loss.backward(); optimizer.step(); return { ce } },
//         evaluate: async () => ({ miou }), state: () => …, restore: (s) => …,
//       };
//     },
//   });
//   r.parts.model …                        // whatever build() returned
//
// Warm-up + multistep per iteration: `{ unit: "iter", schedule: { kind: "multistep", … },
// warmup: { steps } }`. Data-parallel: `data.distributed = { rank, worldSize }` shards the
// loader, and `primary: rank === 0` keeps the settings record to one writer. A batch type
// the DataLoader does not make: pass `source` (anything with batchesPerEpoch/epoch/close).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { type Batch, DataLoader, type LoaderOptions } from "../../data/loader.js";
import { type DistGroup, shardOptions } from "../../distributed/group.js";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import {
  LRScheduler,
  type ParamGroupInput,
  type Schedule,
  SGD,
  type SGDOptions,
  type Warmup,
} from "../../optim/index.js";
import { manualSeed, type Tensor } from "../../tensor/index.js";
import type { CheckpointValue } from "./checkpoint.js";
import { checkResumable } from "./resume.js";
import { CHECKPOINT_FILE, type StepContext, type TrainResult, train } from "./trainLoop.js";

export const CONFIG_FILE = "config.json";

/** Where a run's batches come from; DataLoader is one. */
export interface BatchSource<B> {
  readonly batchesPerEpoch: number;
  epoch(epoch: number, signal: AbortSignal | undefined, startStep: number): AsyncIterable<B>;
  close(): Promise<void>;
}

export interface ScheduleSpec {
  /** "epoch": stepped after each epoch; "iter": after each optimiser step. */
  unit: "epoch" | "iter";
  schedule: Schedule;
  warmup?: Warmup;
}

/** What a pipeline builds once the seed is set: its models and its own steps. */
export interface RunParts<B> {
  /** Parameters to optimise: one list, or groups with their own lr/weightDecay. */
  params: Tensor[] | ParamGroupInput[];
  /** Forward, losses, backward and `optimizer.step()` on one batch; the named losses. */
  step(batch: B, ctx: StepContext & { optimizer: SGD }): Record<string, number>;
  evaluate?(epoch: number): Promise<Record<string, number>> | Record<string, number>;
  /** Everything to checkpoint beyond optimizer, schedule and RNG (the models). */
  state(): Record<string, CheckpointValue>;
  restore(state: Record<string, CheckpointValue>): void;
  /** After each epoch's checkpoint, e.g. export the model alone. */
  afterEpoch?(epoch: number): void;
  /** Once before epoch 1 of a fresh run (not on resume); false stops with nothing trained. */
  beforeFirstEpoch?(): Promise<boolean>;
  /** Images in a batch, for the progress rate; default: a DataLoader batch's shape[0]. */
  batchSize?(batch: B): number;
}

export interface RunSpec<B, P extends RunParts<B>> {
  /** Progress label and metrics' event prefix. */
  name: string;
  runDir: string;
  /** Set before build(): random inits, new heads and dropout draw from it. */
  seed: number;
  /** Recorded as runDir/config.json; a resumed run must match it except for these keys. */
  settings: object;
  mayChangeOnResume: readonly string[];
  /** False on all but one process of a data-parallel run: it alone writes the record. */
  primary?: boolean;
  epochs: number;
  /** The training loader (its shuffle seed defaults to `seed`); or `source` instead. */
  data?: { dataset: Dataset } & LoaderOptions;
  source?: BatchSource<B>;
  /** SGD defaults for every parameter group. */
  optimizer: SGDOptions;
  /** A schedule, or one computed from the run's length (poly, per-iteration multistep). */
  schedule: ScheduleSpec | ((len: { epochs: number; stepsPerEpoch: number }) => ScheduleSpec);
  build(): P;
  evalEvery?: number;
  checkpointEvery?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (with a checkpoint) after this many steps. */
  stopAfterSteps?: number;
  /**
   * Data-parallel group (src/distributed): data.batchSize is the global batch, each rank
   * gets its share and its shard; the ranks must agree on `settings` (but workers and
   * device); rank 0 alone writes (see train()).
   */
  distributed?: DistGroup;
}

export interface RunResult<P> extends TrainResult {
  runDir: string;
  /** What build() returned: the trained models. */
  parts: P;
}

/** Refuses to continue a run in `runDir` with other settings; records them otherwise. */
export function recordSettings(
  runDir: string,
  settings: object,
  mayChange: readonly string[],
  write = true,
): void {
  const record = join(runDir, CONFIG_FILE);
  if (existsSync(join(runDir, CHECKPOINT_FILE)) && existsSync(record))
    checkResumable(JSON.parse(readFileSync(record, "utf8")), settings, record, new Set(mayChange));
  if (!write) return;
  mkdirSync(runDir, { recursive: true });
  atomicWriteFile(record, Buffer.from(`${JSON.stringify(settings, null, 2)}\n`));
}

const batchSize = (b: unknown): number => (b as Batch).shape?.[0] ?? 1;

export async function runTraining<B = Batch, P extends RunParts<B> = RunParts<B>>(
  spec: RunSpec<B, P>,
): Promise<RunResult<P>> {
  manualSeed(spec.seed);
  const parts = spec.build();
  const dist = spec.distributed;
  if (dist) {
    const { workers, device, ...shared } = spec.settings as Record<string, unknown>;
    dist.checkSame(`${spec.name} settings`, JSON.stringify(shared));
    // Every rank checks the old record before rank 0 replaces it.
    recordSettings(spec.runDir, spec.settings, spec.mayChangeOnResume, false);
    dist.barrier();
  }
  const primary = dist ? dist.isLead : (spec.primary ?? true);
  recordSettings(spec.runDir, spec.settings, spec.mayChangeOnResume, primary);

  let source: BatchSource<B>;
  if (spec.source) source = spec.source;
  else if (spec.data) {
    const { dataset, ...opts } = spec.data;
    const shard = dist ? shardOptions(dist, opts.batchSize) : {};
    source = new DataLoader(dataset, {
      seed: spec.seed,
      ...opts,
      ...shard,
    }) as unknown as BatchSource<B>;
  } else throw new Error(`${spec.name}: the run needs \`data\` or \`source\``);
  try {
    const optimizer = new SGD(parts.params, spec.optimizer);
    const len = { epochs: spec.epochs, stepsPerEpoch: source.batchesPerEpoch };
    const sched = typeof spec.schedule === "function" ? spec.schedule(len) : spec.schedule;
    const scheduler = new LRScheduler(optimizer.paramGroups, sched.schedule, sched.warmup);

    const fresh = !existsSync(join(spec.runDir, CHECKPOINT_FILE));
    if (fresh && parts.beforeFirstEpoch && !(await parts.beforeFirstEpoch())) {
      const nothing = { epochsDone: 0, stepInEpoch: 0, seconds: 0, lastEval: null, history: [] };
      return { ...nothing, stopped: true, runDir: spec.runDir, parts };
    }
    const result = await train<B>({
      name: spec.name,
      runDir: spec.runDir,
      epochs: spec.epochs,
      stepsPerEpoch: source.batchesPerEpoch,
      batches: (e, start) => source.epoch(e, undefined, start),
      batchSize: parts.batchSize ? (b) => parts.batchSize!(b) : batchSize,
      trainStep: (b, ctx) => parts.step(b, { ...ctx, optimizer }),
      optimizer,
      scheduler,
      scheduleUnit: sched.unit,
      evaluate: parts.evaluate ? (epoch) => parts.evaluate!(epoch) : undefined,
      evalEvery: spec.evalEvery,
      state: () => parts.state(),
      restore: (s) => parts.restore(s),
      afterEpoch: parts.afterEpoch ? (epoch) => parts.afterEpoch!(epoch) : undefined,
      checkpointEvery: spec.checkpointEvery,
      progress: spec.progress,
      stopAfterSteps: spec.stopAfterSteps,
      distributed: dist,
    });
    return { ...result, runDir: spec.runDir, parts };
  } finally {
    await source.close();
  }
}
