// `kdep distill` configuration: the paper's recipe (kdep-method.md §5) as defaults, stated
// once here. Configs are plain data, validated; unknown keys are refused.
import { z } from "zod";

export const DistillConfigSchema = z
  .object({
    /** Teacher architecture from the model registry. */
    teacher: z.string().default("resnet50"),
    /** Teacher weights: a local file, an http(s) URL, or torchvision:<arch>. */
    teacherWeights: z.string().optional(),
    student: z.string().default("resnet18"),
    /** ImageFolder root holding train/ (and val/), e.g. the 10% subset from `kdep subset`. */
    data: z.string().optional(),
    /** Folder written by `kdep svd` (V.npy, mean.npy, singular_values.npy, svd.json). */
    svd: z.string().optional(),
    align: z.enum(["svd", "linear", "none", "logits"]).default("svd"),
    pts: z.boolean().default(true),
    ptsTemperature: z.number().positive().default(0.1),
    ptsPower: z.number().positive().default(3),
    /** 3.0 for the MS-R50 teacher, 20.0 for a supervised (SP-R50, torchvision) teacher;
     * unset: 20 when the weights are torchvision's, else 3 (1 for align "logits"). */
    lossWeight: z.number().positive().optional(),
    /** Optional extra terms of the reference code, off in the final method. */
    logitWeight: z.number().min(0).default(0),
    ceWeight: z.number().min(0).default(0),
    kdTemperature: z.number().positive().default(4),
    epochs: z.number().int().positive().default(90),
    batchSize: z.number().int().positive().default(512),
    /** Split each batch into micro-batches of this size and accumulate gradients. */
    microBatch: z.number().int().positive().optional(),
    /** 0.3 for ResNet students, 0.1 for MobileNetV2 when unset. */
    lr: z.number().positive().optional(),
    momentum: z.number().min(0).default(0.9),
    weightDecay: z.number().min(0).default(5e-4),
    lrStep: z.number().int().positive().default(30),
    lrGamma: z.number().positive().default(0.1),
    imageSize: z.number().int().positive().default(224),
    valEvery: z.number().int().min(0).default(5),
    workers: z.number().int().min(0).default(2),
    seed: z.number().int().min(0).default(0),
    out: z.string().default("runs/distill"),
    checkpointEvery: z.number().int().min(0).default(200),
    device: z.string().default("cpu"),
    channelsLast: z.boolean().default(false),
    /** Data-parallel runs: batch statistics over all ranks' samples (SyncBatchNorm). */
    syncBn: z.boolean().default(false),
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
