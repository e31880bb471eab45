// `kdep transfer cls` configuration: the protocol of docs/method.md#classification-transfer
// as defaults.
import { z } from "zod";

export const DATASETS = [
  "cifar100",
  "dtd",
  "caltech256",
  "cub200",
  "imagefolder",
  "fashion-mnist",
] as const;

export const TransferConfigSchema = z
  .object({
    backbone: z.string().default("resnet18"),
    /** ResNet base width (64 in the paper); narrower for quick runs and tests. */
    width: z.number().int().positive().optional(),
    /** Weights: a kdep student.pth, torchvision/robustness/KDEP checkpoint, or "none" (random). */
    weights: z.string().optional(),
    dataset: z.enum(DATASETS).default("cifar100"),
    data: z.string().optional(),
    epochs: z.number().int().positive().default(150),
    batchSize: z.number().int().positive().default(64),
    lr: z.number().positive().default(0.001),
    lrStep: z.number().int().positive().default(50),
    lrGamma: z.number().positive().default(0.1),
    momentum: z.number().min(0).default(0.9),
    weightDecay: z.number().min(0).default(5e-4),
    evalEvery: z.number().int().min(0).default(5),
    imageSize: z.number().int().positive().default(224),
    resize: z.number().int().positive().default(256),
    /** Fine-tune everything (the paper) or train only a new head on a frozen backbone. */
    mode: z.enum(["finetune", "linear-probe"]).default("finetune"),
    runs: z.number().int().positive().default(1),
    seed: z.number().int().min(0).default(0),
    workers: z.number().int().min(0).default(2),
    out: z.string().default("runs/transfer"),
    device: z.string().default("cpu"),
  })
  .strict();

export type TransferConfig = z.infer<typeof TransferConfigSchema>;
