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
    backbone: z
      .string()
      .default("resnet18")
      .describe("backbone architecture (model registry name)")
      .meta({ arg: "arch" }),
    width: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("ResNet base width (the paper: 64); narrower for quick runs"),
    weights: z
      .string()
      .optional()
      .describe(
        "student.pth, torchvision/robustness/KDEP checkpoint, URL or torchvision:<arch>; none = random init",
      )
      .meta({ arg: "spec" }),
    dataset: z.enum(DATASETS).default("cifar100").describe("downstream dataset"),
    data: z
      .string()
      .optional()
      .describe("dataset root (CIFAR-100: the .tar.gz or its folder)")
      .meta({ arg: "path" }),
    epochs: z.number().int().positive().default(150).describe("epochs"),
    batchSize: z.number().int().positive().default(64).describe("images per step"),
    lr: z.number().positive().default(0.001).describe("learning rate"),
    lrStep: z
      .number()
      .int()
      .positive()
      .default(50)
      .describe("multiply the lr by lrGamma every n epochs"),
    lrGamma: z.number().positive().default(0.1).describe("lr step factor"),
    momentum: z.number().min(0).default(0.9).describe("SGD momentum"),
    weightDecay: z.number().min(0).default(5e-4).describe("weight decay"),
    evalEvery: z.number().int().min(0).default(5).describe("test top-1 every n epochs (0: never)"),
    imageSize: z.number().int().positive().default(224).describe("training crop size"),
    resize: z
      .number()
      .int()
      .positive()
      .default(256)
      .describe("test-time resize before the centre crop"),
    mode: z
      .enum(["finetune", "linear-probe"])
      .default("finetune")
      .describe("fine-tune everything (the paper) or train a new head on a frozen backbone"),
    probeNorm: z
      .boolean()
      .default(false)
      .describe(
        "linear probe: standardise the frozen features (BatchNorm without affine) before the head",
      ),
    runs: z.number().int().positive().default(1).describe("repetitions with seeds seed, seed+1, …"),
    seed: z.number().int().min(0).default(0).describe("seed of the first run"),
    workers: z.number().int().min(0).default(2).describe("loader threads"),
    out: z.string().default("runs/transfer").describe("run folder").meta({ arg: "dir" }),
    device: z
      .string()
      .default("cpu")
      .describe("where to train: cpu or cuda:N")
      .meta({ arg: "dev" }),
  })
  .strict();

export type TransferConfig = z.infer<typeof TransferConfigSchema>;
