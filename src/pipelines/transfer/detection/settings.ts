// Settings of `kdep transfer det` as a schema: the command's flags and config keys, and the
// options of the library's runDetection. Keys left out take the recipe default of
// --dataset (detDefaults in config.ts).
import { z } from "zod";

const ints = () => z.array(z.coerce.number().int().positive()).min(1);

/** Settings of `kdep transfer det` (its flags, help and config keys come from this schema). */
export const DetSettingsSchema = z
  .object({
    dataset: z
      .enum(["voc", "coco", "folder"])
      .default("voc")
      .describe("voc (07+12 trainval → 07 test) | coco (2017) | folder (COCO JSON of your own)"),
    data: z.string().describe("dataset root").meta({ arg: "dir" }),
    backbone: z
      .enum(["resnet18", "resnet50", "mobilenet_v2"])
      .default("resnet18")
      .describe("backbone"),
    width: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("ResNet base width (64); narrower for a narrow student"),
    head: z.enum(["c4", "fpn"]).default("c4").describe("box head (mobilenet_v2 needs fpn)"),
    weights: z
      .string()
      .default("none")
      .describe("backbone checkpoint, URL or torchvision:<arch>; none = random init")
      .meta({ arg: "spec" }),
    out: z.string().default("runs/det").describe("run folder").meta({ arg: "dir" }),
    iterations: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("iterations (VOC 18000, COCO 90000)"),
    steps: ints()
      .optional()
      .describe("lr ×0.1 at these iterations (VOC 12000,16000; COCO 60000,80000)"),
    warmupIters: z.number().int().min(0).optional().describe("linear warm-up iterations (1000)"),
    warmupFactor: z.number().positive().max(1).optional().describe("warm-up start factor (0.001)"),
    lr: z.number().positive().optional().describe("base lr for 16 images per iteration (0.02)"),
    momentum: z.number().min(0).optional().describe("SGD momentum (0.9)"),
    weightDecay: z.number().min(0).optional().describe("weight decay (1e-4)"),
    batchSize: z.number().int().positive().optional().describe("images per iteration (16)"),
    trainSizes: ints().optional().describe("short sides drawn in training (VOC 480..800 by 32)"),
    testSize: z.number().int().positive().optional().describe("test short side (800)"),
    maxSize: z.number().int().positive().optional().describe("long side cap (1333)"),
    frozenBn: z.boolean().optional().describe("keep the backbone's BatchNorm fixed"),
    syncBn: z
      .boolean()
      .default(true)
      .describe(
        "data-parallel runs: trainable BatchNorm statistics over all ranks (SyncBatchNorm)",
      ),
    roiBatchPerImage: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("RoIs sampled per training image (512)"),
    rpnPreNms: ints()
      .length(2)
      .optional()
      .describe("RPN proposals before NMS, train,test (2000,1000)"),
    rpnPostNms: ints()
      .length(2)
      .optional()
      .describe("RPN proposals after NMS, train,test (2000,1000)"),
    classes: z
      .array(z.string())
      .optional()
      .describe("class names of a VOC-layout dataset of your own"),
    seed: z.number().int().min(0).optional().describe("seed (0)"),
    checkpointEvery: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("checkpoint every n iterations (1000)"),
    drawImages: z.number().int().min(0).optional().describe("val images drawn as PNG (4)"),
    evalImages: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("evaluate on the first n val images (0: all)"),
    workers: z.number().int().min(0).optional().describe("image decoding threads (2)"),
  })
  .strict();

/** Validated settings: keys not given are undefined (detDefaults fills them). */
export type DetSettings = z.infer<typeof DetSettingsSchema>;
