// `kdep transfer seg` configuration: the PSPNet recipe of KDEP's reference with its
// per-dataset defaults (the table below), every value a flag or a config-file key.
import { z } from "zod";
import { PSP_BACKBONES } from "../../models/pspnet.js";

export const SEG_DATASETS = ["voc", "cityscapes", "ade20k", "folder"] as const;
export type SegDatasetName = (typeof SEG_DATASETS)[number];

export const SegConfigSchema = z
  .object({
    dataset: z.enum(SEG_DATASETS).default("voc").describe("segmentation dataset"),
    data: z
      .string()
      .optional()
      .describe("dataset root (folder: images/, masks/, classes.txt, train/val lists)")
      .meta({ arg: "dir" }),
    trainList: z
      .string()
      .optional()
      .describe('VOC: the SBD train_aug list ("JPEGImages/x.jpg SegmentationClassAug/x.png")')
      .meta({ arg: "file" }),
    backbone: z.enum(PSP_BACKBONES).default("resnet18").describe("PSPNet backbone"),
    width: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("ResNet base width (64); narrower for quick runs"),
    headChannels: z
      .number()
      .int()
      .positive()
      .default(512)
      .describe("PSP head channels (aux head: half)"),
    weights: z
      .string()
      .optional()
      .describe(
        "backbone: student.pth, any checkpoint kdep reads, URL, torchvision:<arch>; none = random init",
      )
      .meta({ arg: "spec" }),
    epochs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("epochs (Cityscapes 200, VOC 50, ADE20K 100, folder 50)"),
    batchSize: z.number().int().positive().default(16).describe("batch size"),
    lr: z
      .number()
      .positive()
      .optional()
      .describe("backbone lr (0.01; MobileNetV2 on Cityscapes 0.006)"),
    headLrMult: z.number().positive().default(10).describe("lr multiplier of PPM and heads"),
    power: z.number().positive().default(0.9).describe("poly schedule power"),
    momentum: z.number().min(0).default(0.9).describe("SGD momentum"),
    weightDecay: z.number().min(0).default(1e-4).describe("weight decay"),
    auxWeight: z
      .number()
      .min(0)
      .optional()
      .describe("aux loss weight (0.4; MobileNetV2 on ADE20K 0)"),
    dropout: z.number().min(0).max(1).default(0.1).describe("Dropout2d before the classifiers"),
    crop: z.number().int().positive().default(512).describe("train crop and eval window"),
    scaleMin: z.number().positive().optional().describe("random scale, low end (VOC 0.5)"),
    scaleMax: z
      .number()
      .positive()
      .optional()
      .describe("random scale, high end (VOC 1.5, others 2.0)"),
    rotate: z.number().min(0).default(10).describe("random rotation, ± degrees"),
    photometric: z
      .boolean()
      .default(true)
      .describe("KDEP's photometric distortion (brightness, contrast, saturation, hue)"),
    baseSize: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("eval long side (Cityscapes 2048, others 512)"),
    evalScales: z
      .array(z.coerce.number().positive())
      .nonempty()
      .default([1])
      .describe("eval scales"),
    evalFlip: z.boolean().default(true).describe("average each eval window with its flip"),
    evalEvery: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe("evaluate every n epochs (and after the last)"),
    saveImages: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe("val images saved as image | truth | prediction"),
    saveLabels: z
      .boolean()
      .default(false)
      .describe("every val prediction as a label PNG in predictions/labels/"),
    syncBn: z
      .boolean()
      .default(true)
      .describe("data-parallel runs: BatchNorm statistics over all ranks (SyncBatchNorm)"),
    seed: z.number().int().min(0).default(0).describe("random seed"),
    workers: z.number().int().min(0).default(2).describe("loader worker threads"),
    out: z.string().default("runs/seg").describe("run folder").meta({ arg: "dir" }),
    device: z.string().default("cpu").describe("cpu or cuda:N"),
  })
  .strict();

export type SegConfigInput = z.infer<typeof SegConfigSchema>;

/** With the dataset- and backbone-dependent defaults filled in. */
export type SegConfig = Required<
  Pick<SegConfigInput, "epochs" | "lr" | "auxWeight" | "scaleMin" | "scaleMax" | "baseSize">
> &
  SegConfigInput;

/**
 * The reference recipe per dataset:
 *   Cityscapes 19 classes, lr 0.01 (MobileNetV2 0.006), 200 epochs, scale 0.5–2.0, base 2048
 *   VOC2012    21 classes, lr 0.01, 50 epochs, scale 0.5–1.5, base 512
 *   ADE20K    150 classes, lr 0.01, 100 epochs, scale 0.5–2.0, base 512 (MNV2: aux weight 0)
 * A folder dataset takes VOC's schedule with the wider scale range.
 */
export const SEG_RECIPE: Record<
  SegDatasetName,
  { epochs: number; scale: [number, number]; baseSize: number }
> = {
  cityscapes: { epochs: 200, scale: [0.5, 2.0], baseSize: 2048 },
  voc: { epochs: 50, scale: [0.5, 1.5], baseSize: 512 },
  ade20k: { epochs: 100, scale: [0.5, 2.0], baseSize: 512 },
  folder: { epochs: 50, scale: [0.5, 2.0], baseSize: 512 },
};

export function withRecipe(c: SegConfigInput): SegConfig {
  const r = SEG_RECIPE[c.dataset];
  const mnv2 = c.backbone === "mobilenet_v2";
  const out: SegConfig = {
    ...c,
    epochs: c.epochs ?? r.epochs,
    lr: c.lr ?? (mnv2 && c.dataset === "cityscapes" ? 0.006 : 0.01),
    auxWeight: c.auxWeight ?? (mnv2 && c.dataset === "ade20k" ? 0 : 0.4),
    scaleMin: c.scaleMin ?? r.scale[0],
    scaleMax: c.scaleMax ?? r.scale[1],
    baseSize: c.baseSize ?? r.baseSize,
  };
  if (out.scaleMin > out.scaleMax)
    throw new Error(`scaleMin ${out.scaleMin} is larger than scaleMax ${out.scaleMax}`);
  return out;
}
