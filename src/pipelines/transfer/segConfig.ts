// `kdep transfer seg` configuration: the PSPNet recipe of KDEP's reference with its
// per-dataset defaults (the table below), every value a flag or a config-file key.
import { z } from "zod";
import { PSP_BACKBONES } from "../../models/pspnet.js";

export const SEG_DATASETS = ["voc", "cityscapes", "ade20k", "folder"] as const;
export type SegDatasetName = (typeof SEG_DATASETS)[number];

export const SegConfigSchema = z
  .object({
    dataset: z.enum(SEG_DATASETS).default("voc"),
    data: z.string().optional(),
    /** VOC: the SBD train_aug list (semseg's "JPEGImages/x.jpg SegmentationClassAug/x.png"). */
    trainList: z.string().optional(),
    backbone: z.enum(PSP_BACKBONES).default("resnet18"),
    /** ResNet base width (64); narrower for quick runs. */
    width: z.number().int().positive().optional(),
    /** Channels of the PSP head's 3×3 conv (512; aux head: half). */
    headChannels: z.number().int().positive().default(512),
    weights: z.string().optional(),
    epochs: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().default(16),
    lr: z.number().positive().optional(),
    headLrMult: z.number().positive().default(10),
    power: z.number().positive().default(0.9),
    momentum: z.number().min(0).default(0.9),
    weightDecay: z.number().min(0).default(1e-4),
    auxWeight: z.number().min(0).optional(),
    dropout: z.number().min(0).max(1).default(0.1),
    crop: z.number().int().positive().default(512),
    scaleMin: z.number().positive().optional(),
    scaleMax: z.number().positive().optional(),
    rotate: z.number().min(0).default(10),
    baseSize: z.number().int().min(0).optional(),
    evalScales: z.array(z.number().positive()).nonempty().default([1]),
    evalFlip: z.boolean().default(true),
    evalEvery: z.number().int().min(0).default(5),
    /** Val images written as image | truth | prediction PNGs at the end. */
    saveImages: z.number().int().min(0).default(5),
    /** Every val prediction as a label PNG (predictions/labels/) at the end. */
    saveLabels: z.boolean().default(false),
    seed: z.number().int().min(0).default(0),
    workers: z.number().int().min(0).default(2),
    out: z.string().default("runs/seg"),
    device: z.string().default("cpu"),
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
