// `kdep transfer det`: Faster R-CNN (C4 or FPN) on a pre-trained backbone, trained and
// evaluated on VOC, COCO or one's own COCO-JSON data; `kdep transfer det-task` writes the
// offline Fashion-MNIST detection task. Recipe values a dataset decides (iterations, lr
// steps, training sizes) default per --dataset when not given.
import { z } from "zod";
import { writeSyntheticDetection } from "../../data/datasets/detSynthetic.js";
import { detDefaults } from "../../pipelines/transfer/detection/config.js";
import { loadDetection } from "../../pipelines/transfer/detection/data.js";
import { runDetection } from "../../pipelines/transfer/detection/train.js";
import { defineCommand, UsageError } from "../options.js";

const ints = () => z.array(z.coerce.number().int().positive()).min(1);

const DetSettings = z
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
  })
  .strict();

export const transferDetCommand = defineCommand({
  name: "det",
  description: "detection transfer: Faster R-CNN (C4 or FPN), VOC07 AP50 and COCO AP",
  schema: DetSettings,
  config: true,
  run: async (given) => {
    const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    const c = detDefaults(given.dataset, defined);
    if (c.head === "c4" && c.backbone === "mobilenet_v2") {
      throw new UsageError("--head c4 needs a ResNet backbone; use --head fpn with mobilenet_v2");
    }
    const data = await loadDetection(c.dataset, c.data, c.classes);
    const r = await runDetection(c, data);
    const m = r.metrics;
    if (!m) {
      console.log(`Stopped; run the same command again to continue from ${r.runDir}`);
      return;
    }
    console.log(
      `VOC07 AP50 ${m.vocMap50.toFixed(2)} · COCO AP ${m.AP.toFixed(2)} AP50 ${m.AP50.toFixed(2)} AP75 ${m.AP75.toFixed(2)}`,
    );
    console.log(`Results: ${r.runDir}/result.json, detections in ${r.runDir}/coco_results.json`);
  },
});

export const transferDetTaskCommand = defineCommand({
  name: "det-task",
  description:
    "write the offline detection task (Fashion-MNIST objects on canvases, COCO JSON + VOC XML)",
  schema: z
    .object({
      out: z.string().describe("output folder").meta({ arg: "dir" }),
      fmnist: z
        .string()
        .default(process.env.KDEP_FMNIST ?? "/usr/share/datasets/fashion-mnist")
        .describe("Fashion-MNIST idx files")
        .meta({ arg: "dir" }),
      train: z.number().int().positive().default(400).describe("training images"),
      val: z.number().int().positive().default(100).describe("val images"),
      seed: z.number().int().min(0).default(0).describe("seed"),
    })
    .strict(),
  run: async (o) => {
    const names = await writeSyntheticDetection({
      fmnistDir: o.fmnist,
      outDir: o.out,
      train: o.train,
      val: o.val,
      seed: o.seed,
    });
    console.log(`Wrote ${o.train} + ${o.val} images of ${names.join(", ")} to ${o.out}`);
    console.log(`Train: kdep transfer det --dataset folder --data ${o.out} --head fpn ...`);
  },
});
