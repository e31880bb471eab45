// `kdep distill` configuration: the paper's recipe (docs/method.md#loss-and-optimisation) as
// defaults, stated once here. Configs are plain data, validated; unknown keys are refused.
import { z } from "zod";
import { isModelName, unknownModelMessage } from "../../models/registry.js";

/** An architecture from the model registry, checked with the other settings (before any
 *  file is read), so a typo is reported as such rather than as a missing input. */
const arch = (fallback: string) =>
  z
    .string()
    .refine((n: string): boolean => isModelName(n), {
      error: (i) => unknownModelMessage(String(i.input)),
    })
    .default(fallback);

export const DistillConfigSchema = z
  .object({
    teacher: arch("resnet50")
      .describe("teacher architecture (model registry name)")
      .meta({ arg: "arch" }),
    teacherWeights: z
      .string()
      .optional()
      .describe(
        "teacher weights: a file, an http(s) URL, torchvision:<arch>, or random (a randomly " +
          "initialised teacher, on purpose); required",
      )
      .meta({ arg: "spec" }),
    student: arch("resnet18").describe("student architecture").meta({ arg: "arch" }),
    data: z
      .string()
      .optional()
      .describe("ImageFolder root holding train/ (and val/), e.g. the subset from `kdep subset`")
      .meta({ arg: "dir" }),
    svd: z
      .string()
      .optional()
      .describe("folder written by `kdep svd` for this teacher; unset: <out>/../svd")
      .meta({ arg: "dir" }),
    targets: z
      .string()
      .optional()
      .describe("cache written by `kdep targets`: train without running the teacher")
      .meta({ arg: "dir" }),
    align: z
      .enum(["svd", "linear", "none", "logits"])
      .default("svd")
      .describe("feature alignment (logits: the logit-KD baseline)"),
    pts: z.boolean().default(true).describe("power temperature scaling of the aligned features"),
    ptsTemperature: z.number().positive().default(0.1).describe("PTS temperature T"),
    ptsPower: z.number().positive().default(3).describe("PTS power n"),
    lossWeight: z
      .number()
      .positive()
      .optional()
      .describe(
        "feature loss weight; unset: 20 for torchvision (supervised) teacher weights, else 3 (1 for align logits)",
      ),
    // Optional extra terms of the reference code, off in the final method.
    logitWeight: z.number().min(0).default(0).describe("extra logit-KD term weight"),
    ceWeight: z.number().min(0).default(0).describe("extra label cross-entropy weight"),
    kdTemperature: z.number().positive().default(4).describe("logit-KD temperature"),
    epochs: z.number().int().positive().default(90).describe("epochs"),
    batchSize: z.number().int().positive().default(512).describe("images per step"),
    microBatch: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("split each batch into chunks of this size and accumulate gradients"),
    lr: z
      .number()
      .positive()
      .optional()
      .describe("learning rate; unset: 0.3 for ResNet students, 0.1 for MobileNetV2"),
    momentum: z.number().min(0).default(0.9).describe("SGD momentum"),
    weightDecay: z.number().min(0).default(5e-4).describe("weight decay"),
    lrStep: z
      .number()
      .int()
      .positive()
      .default(30)
      .describe("multiply the lr by lrGamma every n epochs"),
    lrGamma: z.number().positive().default(0.1).describe("lr step factor"),
    imageSize: z.number().int().positive().default(224).describe("training crop size"),
    valEvery: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe("validation distillation loss every n epochs (0: never)"),
    workers: z.number().int().min(0).default(2).describe("loader threads"),
    seed: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("seed of the student's init and the augmentation"),
    out: z.string().default("runs/distill").describe("run folder").meta({ arg: "dir" }),
    checkpointEvery: z
      .number()
      .int()
      .min(0)
      .default(200)
      .describe("also checkpoint every n steps within an epoch (0: only after each epoch)"),
    device: z
      .string()
      .default("cpu")
      .describe("where to train: cpu or cuda:N")
      .meta({ arg: "dev" }),
    channelsLast: z.boolean().default(false).describe("NHWC activations"),
    syncBn: z
      .boolean()
      .default(false)
      .describe("data-parallel runs: batch statistics over all ranks (SyncBatchNorm)"),
    amp: z
      .enum(["bf16", "fp16"])
      .optional()
      .describe("mixed precision: bf16 (CUDA; CPUs with avx512_bf16/amx_bf16) or fp16 (CUDA)"),
  })
  .strict();

export type DistillConfig = z.infer<typeof DistillConfigSchema>;

export function defaultLr(student: string): number {
  return student.startsWith("mobilenet") ? 0.1 : 0.3;
}

/** Feature terms: 3 (MS-R50) or 20 (supervised torchvision teacher); the logit-KD baseline
 * is Hinton's loss, whose τ² factor already sets its scale: weight 1. */
export function defaultLossWeight(teacherWeights: string | undefined, align = "svd"): number {
  if (align === "logits") return 1;
  return teacherWeights?.startsWith("torchvision:") ? 20 : 3;
}
