// KDEP's two stages as library calls taking the CLI's options as a plain object: runSvd
// (`kdep svd`) and runDistill (`kdep distill`). Each validates its options with the schema
// the CLI uses, builds the teacher and the data, and runs the pipeline.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { kdepTrainTransform } from "../data/transforms/pipeline.js";
import type { DistGroup } from "../distributed/group.js";
import { CHECKPOINT_FILE } from "../pipelines/common/trainLoop.js";
import { type DistillResult, runDistill as distillPipeline } from "../pipelines/kdep/distill.js";
import { DistillConfigSchema } from "../pipelines/kdep/distillConfig.js";
import { loadSvd, type SvdManifest, runSvd as svdPipeline } from "../pipelines/kdep/svdPass.js";
import { svdHash } from "../pipelines/kdep/targetCacheFormat.js";
import { TargetCache } from "../pipelines/kdep/targetCacheReader.js";
import { type LogFn, loadTeacher, stderrLog, teacherIdOf, trainFolder } from "./teacher.js";
import { valTransform } from "./transforms.js";
import { validateOptions } from "./validate.js";

/** Settings of `kdep svd` (its flags, help and defaults come from this schema). */
export const SvdSchema = z
  .object({
    data: z
      .string()
      .describe("ImageFolder root (its train/ is used when present), e.g. the subset")
      .meta({ arg: "dir" }),
    out: z
      .string()
      .describe("output folder for V.npy, mean.npy, singular_values.npy, svd.json")
      .meta({ arg: "dir" }),
    teacher: z.string().default("resnet50").describe("teacher architecture").meta({ arg: "arch" }),
    teacherWeights: z
      .string()
      .optional()
      .describe("file, URL, torchvision:<arch>, or random (on purpose)")
      .meta({ arg: "spec" }),
    imageSize: z.number().int().positive().default(224).describe("input size"),
    batchSize: z.number().int().positive().default(256).describe("images per forward pass"),
    workers: z.number().int().min(0).default(2).describe("loader threads"),
    seed: z.number().int().min(0).default(0).describe("augmentation seed"),
    exact: z
      .boolean()
      .default(false)
      .describe("keep every feature and use torch.linalg.svd (O(N·d) memory; for checking)"),
    device: z
      .string()
      .default("cpu")
      .describe("where the teacher runs: cpu or cuda:N")
      .meta({ arg: "dev" }),
  })
  .strict();

/** Options of {@link runSvd}: the settings of `kdep svd` (only `data` and `out` are required). */
export type SvdOptions = z.input<typeof SvdSchema> & {
  /** Checkpoint the accumulators every this many batches (default 20). */
  checkpointEvery?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
};

/** What {@link runSvd} returns once the pass ends or is interrupted. */
export interface SvdRunResult {
  manifest: SvdManifest;
  /** True when interrupted (Ctrl-C): run again with the same options to continue. */
  stopped: boolean;
  teacherId: string;
}

/** The SVD pass of `kdep svd`: the teacher over the data → V, μ, σ in `out`. */
export async function runSvd(options: SvdOptions, log: LogFn = stderrLog): Promise<SvdRunResult> {
  const { checkpointEvery = 20, progress, ...rest } = options;
  const o = validateOptions(SvdSchema, rest, "runSvd");
  const teacher = await loadTeacher(o.teacher, o.teacherWeights, o.seed, log);
  try {
    const { train } = await trainFolder(o.data);
    const r = await svdPipeline({
      teacher: teacher.model,
      teacherId: teacher.id,
      data: train,
      transform: kdepTrainTransform(o.imageSize),
      out: o.out,
      batchSize: o.batchSize,
      workers: o.workers,
      seed: o.seed,
      exact: o.exact,
      device: o.device,
      checkpointEvery,
      progress,
    });
    return { manifest: r.manifest, stopped: r.stopped, teacherId: teacher.id };
  } finally {
    teacher.model.dispose();
  }
}

/** Options of `kdep distill`: its config keys, plus `resume`. */
export type DistillOptions = z.input<typeof DistillConfigSchema> & {
  /** Continue the run in `out` from its last checkpoint. */
  resume?: boolean;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** This process's data-parallel group (see `DistGroup`): `batchSize` stays global. */
  distributed?: DistGroup;
};

/** KDEP distillation (`kdep distill`): writes `student.pth` in `out` after every epoch. */
export async function runDistill(
  options: DistillOptions,
  log: LogFn = stderrLog,
): Promise<DistillResult> {
  const { resume, progress, distributed, ...rest } = options;
  const c = validateOptions(DistillConfigSchema, rest, "runDistill");
  if (existsSync(join(c.out, CHECKPOINT_FILE)) && !resume) {
    throw new Error(
      `${c.out} already holds a checkpoint: continue it with --resume (resume: true), or choose another --out`,
    );
  }
  if (!c.data) throw new Error("distill needs data (--data: an ImageFolder root with train/)");
  if (c.targets) {
    // Cached teacher targets: the teacher is only named (weights hashed), never built.
    const { train } = await trainFolder(c.data);
    return distillPipeline({
      config: c,
      targets: new TargetCache(c.targets),
      targetsExpect: {
        teacher: await teacherIdOf(c.teacher, c.teacherWeights, c.seed),
        svd: c.svd ? svdHash(c.svd) : undefined,
      },
      train,
      trainTransform: kdepTrainTransform(c.imageSize),
      progress,
    });
  }
  const teacher = await loadTeacher(c.teacher, c.teacherWeights, c.seed, log);
  const svd =
    c.align === "svd" ? loadSvd(c.svd ?? join(c.out, "..", "svd"), teacher.id) : undefined;
  const { train, val } = await trainFolder(c.data);
  return distillPipeline({
    config: c,
    teacher: teacher.model,
    train,
    trainTransform: kdepTrainTransform(c.imageSize),
    val,
    valTransform: valTransform(c.imageSize),
    svd,
    progress,
    distributed,
  });
}
