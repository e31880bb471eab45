// `kdep transfer det`: Faster R-CNN (C4 or FPN) on a pre-trained backbone, trained and
// evaluated on VOC, COCO or one's own COCO-JSON data; `kdep transfer det-task` writes the
// offline Fashion-MNIST detection task. Recipe values a dataset decides (iterations, lr
// steps, training sizes) default per --dataset when not given.
import { z } from "zod";
import { runDetection } from "../../api/detection.js";
import { writeSyntheticDetection } from "../../data/datasets/detSynthetic.js";
import { DetSettingsSchema } from "../../pipelines/transfer/detection/settings.js";
import { DistFlags, joinDistributed, splitDistFlags } from "../distOptions.js";
import { defineCommand, UsageError } from "../options.js";

export const transferDetCommand = defineCommand({
  name: "det",
  description: "detection transfer: Faster R-CNN (C4 or FPN), VOC07 AP50 and COCO AP",
  schema: DetSettingsSchema.extend(DistFlags).strict(),
  config: true,
  run: async (settings) => {
    const [dist, given] = splitDistFlags(settings);
    if (given.head === "c4" && given.backbone === "mobilenet_v2") {
      throw new UsageError("--head c4 needs a ResNet backbone; use --head fpn with mobilenet_v2");
    }
    const distributed = joinDistributed(dist);
    const r = await runDetection({ ...given, distributed });
    if (distributed && !distributed.isLead) return;
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
