// The one training loop behind distillation, supervised pre-training and fine-tuning:
// epochs of batches, named losses, SGD with a schedule, evaluation every N epochs, an
// atomic checkpoint every epoch (and every `checkpointEvery` steps), exact resume, JSONL +
// TensorBoard logs, a progress bar, and a clean stop on Ctrl-C. Each pipeline supplies the
// step and what to save; the loop owns the bookkeeping.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DistGroup } from "../../distributed/group.js";
import { attachGradAveraging } from "../../distributed/reducer.js";
import { removeStaleTemps } from "../../io/atomicWrite.js";
import type { LRScheduler, SGD } from "../../optim/index.js";
import { getRngState, setRngState, type Tensor } from "../../tensor/index.js";
import { type CheckpointValue, loadCheckpointFile, saveCheckpointFile } from "./checkpoint.js";
import { pollSignals, StopSignal } from "./interrupt.js";
import { Progress, RunLog } from "./runLog.js";

export interface StepContext {
  epoch: number;
  step: number;
  globalStep: number;
}

export interface TrainSpec<B> {
  /** Shown in progress lines and logged as the metrics' event prefix. */
  name: string;
  runDir: string;
  epochs: number;
  stepsPerEpoch: number;
  /** The epoch's batches from `startStep` on (deterministic per epoch, for exact resume). */
  batches(epoch: number, startStep: number): AsyncIterable<B>;
  batchSize(b: B): number;
  /** Forward, backward and optimiser step on one batch; returns the named losses. */
  trainStep(b: B, ctx: StepContext): Record<string, number>;
  optimizer: SGD;
  scheduler: LRScheduler;
  /** "epoch" steps the schedule after each epoch, "iter" after each step (poly). */
  scheduleUnit: "epoch" | "iter";
  evaluate?(epoch: number): Promise<Record<string, number>> | Record<string, number>;
  /** Evaluate after epochs that are multiples of this, and after the last. 0 = never. */
  evalEvery?: number;
  /** Training state beyond optimizer/schedule/RNG: models, extra counters. */
  state(): Record<string, CheckpointValue>;
  restore(state: Record<string, CheckpointValue>): void;
  /** Called after each epoch's checkpoint (e.g. to export the student alone). */
  afterEpoch?(epoch: number): void;
  checkpointEvery?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: ask to stop after this many steps of this process. */
  stopAfterSteps?: number;
  /**
   * Data-parallel group: the optimiser's gradients are averaged over the ranks before each
   * step, rank 0's parameters are broadcast at the start, all ranks stop at the same step,
   * and only rank 0 writes checkpoints, logs and progress.
   */
  distributed?: DistGroup;
}

export interface TrainResult {
  epochsDone: number;
  /** Steps done in the unfinished epoch (non-zero after a stop mid-epoch). */
  stepInEpoch: number;
  stopped: boolean;
  seconds: number;
  lastEval: Record<string, number> | null;
  history: Array<{ epoch: number } & Record<string, number>>;
}

export const CHECKPOINT_FILE = "checkpoint.pth";

interface LoopState {
  epoch: number;
  step: number;
  globalStep: number;
  seconds: number;
}

export async function train<B>(spec: TrainSpec<B>): Promise<TrainResult> {
  const ckptPath = join(spec.runDir, CHECKPOINT_FILE);
  const dist = spec.distributed;
  const lead = !dist || dist.isLead;
  const log: Pick<RunLog, "log" | "close"> = lead
    ? new RunLog(spec.runDir)
    : { log() {}, close() {} };
  const stop = new StopSignal();
  const progress = new Progress(spec.name, lead ? (spec.progress ?? "auto") : "quiet");
  const loop: LoopState = { epoch: 0, step: 0, globalStep: 0, seconds: 0 };
  const history: TrainResult["history"] = [];
  let lastEval: Record<string, number> | null = null;

  if (lead) removeStaleTemps(ckptPath);
  if (existsSync(ckptPath)) {
    const ck = loadCheckpointFile(ckptPath);
    spec.restore(ck.state);
    spec.optimizer.loadStateDict(ck.optimizer);
    spec.scheduler.loadStateDict(ck.schedule);
    setRngState(ck.rng);
    Object.assign(loop, ck.loop);
    history.push(...ck.history);
    log.log(`${spec.name}/resume`, { epoch: loop.epoch, step: loop.step });
  }
  if (dist) attachGradAveraging(dist, spec.optimizer);

  const save = () => {
    if (!lead) return;
    const rng: Tensor = getRngState();
    saveCheckpointFile(ckptPath, {
      state: spec.state(),
      optimizer: spec.optimizer.stateDict(),
      schedule: spec.scheduler.stateDict(),
      rng,
      loop: { ...loop },
      history,
    });
    rng.dispose();
  };

  const started = Date.now() - loop.seconds * 1000;
  let stepsThisRun = 0;
  let stopped = false;
  try {
    while (loop.epoch < spec.epochs && !stop.requested) {
      const epoch = loop.epoch;
      progress.start({
        epoch: epoch + 1,
        epochs: spec.epochs,
        step: loop.step,
        steps: spec.stepsPerEpoch,
        imgPerSec: 0,
        loss: 0,
      });
      let seen = 0;
      const t0 = Date.now();
      const sums: Record<string, number> = {};
      let count = 0;
      for await (const batch of spec.batches(epoch, loop.step)) {
        const losses = stepOnce(spec, batch, {
          epoch,
          step: loop.step,
          globalStep: loop.globalStep,
        });
        for (const [k, v] of Object.entries(losses)) {
          if (!Number.isFinite(v))
            throw new Error(
              `${spec.name}: loss "${k}" became ${v} at epoch ${epoch + 1}, step ${loop.step}`,
            );
          sums[k] = (sums[k] ?? 0) + v;
        }
        count++;
        seen += spec.batchSize(batch);
        loop.step++;
        loop.globalStep++;
        stepsThisRun++;
        if (spec.scheduleUnit === "iter") spec.scheduler.step();
        const total = Object.values(losses).reduce((a, b) => a + b, 0);
        const ips = seen / Math.max(1e-3, (Date.now() - t0) / 1000);
        progress.update({
          epoch: epoch + 1,
          epochs: spec.epochs,
          step: loop.step,
          steps: spec.stepsPerEpoch,
          imgPerSec: ips,
          loss: total,
        });
        if (loop.globalStep % 10 === 0) {
          log.log(
            `${spec.name}/train_step`,
            {
              ...losses,
              lr: spec.optimizer.paramGroups[0].lr,
              epoch: epoch + 1,
              global_step: loop.globalStep,
            },
            loop.globalStep,
          );
        }
        if (spec.stopAfterSteps !== undefined && stepsThisRun >= spec.stopAfterSteps)
          stop.request("stopAfterSteps");
        await pollSignals();
        // Every rank stops at the same step, whichever of them was asked to.
        if (dist?.any(stop.requested)) stop.request("stop on another rank");
        if (stop.requested) break;
        if (
          spec.checkpointEvery &&
          loop.step % spec.checkpointEvery === 0 &&
          loop.step < spec.stepsPerEpoch
        ) {
          loop.seconds = (Date.now() - started) / 1000;
          save();
        }
      }
      progress.stop();
      if (stop.requested && loop.step < spec.stepsPerEpoch) break;
      // Epoch complete.
      const means = Object.fromEntries(
        Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, count)]),
      );
      loop.epoch++;
      loop.step = 0;
      if (spec.scheduleUnit === "epoch") spec.scheduler.step();
      const every = spec.evalEvery ?? 0;
      let evalOut: Record<string, number> = {};
      if (spec.evaluate && every > 0 && (loop.epoch % every === 0 || loop.epoch === spec.epochs)) {
        evalOut = await spec.evaluate(loop.epoch);
        lastEval = evalOut;
      }
      loop.seconds = (Date.now() - started) / 1000;
      const row = {
        epoch: loop.epoch,
        ...means,
        ...evalOut,
        seconds: loop.seconds,
        lr: spec.optimizer.paramGroups[0].lr,
      };
      history.push(row);
      log.log(`${spec.name}/epoch`, row, loop.epoch);
      save();
      if (lead) spec.afterEpoch?.(loop.epoch);
    }
    // A stop that came after the last epoch's checkpoint has nothing left to save.
    stopped = stop.requested && loop.epoch < spec.epochs;
    if (stopped) {
      loop.seconds = (Date.now() - started) / 1000;
      save();
      log.log(`${spec.name}/stopped`, {
        epoch: loop.epoch,
        step: loop.step,
        global_step: loop.globalStep,
      });
    }
  } finally {
    progress.stop();
    stop.dispose();
    log.close();
  }
  return {
    epochsDone: loop.epoch,
    stepInEpoch: loop.step,
    stopped,
    seconds: loop.seconds,
    lastEval,
    history,
  };
}

/** One training step; under data parallelism a peer's failure is named (see DistGroup). */
function stepOnce<B>(spec: TrainSpec<B>, batch: B, ctx: StepContext): Record<string, number> {
  try {
    return spec.trainStep(batch, ctx);
  } catch (e) {
    throw spec.distributed ? spec.distributed.explain(e) : e;
  }
}
