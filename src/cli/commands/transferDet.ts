// `kdep transfer det`: Faster R-CNN (C4 or FPN) on a pre-trained backbone, trained and
// evaluated on VOC, COCO or one's own COCO-JSON data; `kdep transfer det-task` writes the
// offline Fashion-MNIST detection task.
import type { Command } from "commander";
import { z } from "zod";
import { writeSyntheticDetection } from "../../data/datasets/detSynthetic.js";
import { detDefaults } from "../../pipelines/transfer/detection/config.js";
import { loadDetection } from "../../pipelines/transfer/detection/data.js";
import { runDetection } from "../../pipelines/transfer/detection/train.js";
import { int, num, resolveConfig } from "../config.js";

const intList = (v: string): number[] => v.split(",").map((s) => int(s.trim()));

const DetConfigSchema = z
  .object({
    dataset: z.enum(["voc", "coco", "folder"]),
    data: z.string(),
    backbone: z.enum(["resnet18", "resnet50", "mobilenet_v2"]).default("resnet18"),
    head: z.enum(["c4", "fpn"]).default("c4"),
    weights: z.string().default("none"),
    out: z.string().default("runs/det"),
    iterations: z.number().int().positive().optional(),
    steps: z.array(z.number().int().positive()).optional(),
    warmupIters: z.number().int().min(0).optional(),
    warmupFactor: z.number().positive().max(1).optional(),
    lr: z.number().positive().optional(),
    momentum: z.number().min(0).optional(),
    weightDecay: z.number().min(0).optional(),
    batchSize: z.number().int().positive().optional(),
    trainSizes: z.array(z.number().int().positive()).optional(),
    testSize: z.number().int().positive().optional(),
    maxSize: z.number().int().positive().optional(),
    frozenBn: z.boolean().optional(),
    roiBatchPerImage: z.number().int().positive().optional(),
    rpnPreNms: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
    rpnPostNms: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
    classes: z.array(z.string()).optional(),
    seed: z.number().int().min(0).optional(),
    checkpointEvery: z.number().int().positive().optional(),
    drawImages: z.number().int().min(0).optional(),
    evalImages: z.number().int().min(0).optional(),
  })
  .strict();

export function registerTransferDet(transfer: Command): void {
  transfer
    .command("det")
    .description("detection transfer: Faster R-CNN (C4 or FPN), VOC07 AP50 and COCO AP")
    .option("--config <file>", "JSON or YAML config; flags override it")
    .option("--dataset <kind>", "voc (07+12 → 07 test) | coco (2017) | folder (COCO JSON)")
    .option("--data <dir>", "dataset root")
    .option("--backbone <arch>", "resnet18 | resnet50 | mobilenet_v2 (resnet18)")
    .option("--head <kind>", "c4 | fpn (c4; mobilenet_v2 needs fpn)")
    .option(
      "--weights <spec>",
      "backbone checkpoint, URL or torchvision:<arch>; none = random init",
    )
    .option("--iterations <n>", "(VOC 18000, COCO 90000)", int)
    .option(
      "--steps <list>",
      "lr ×0.1 at these iterations (VOC 12000,16000; COCO 60000,80000)",
      intList,
    )
    .option("--warmup-iters <n>", "(1000)", int)
    .option("--lr <lr>", "(0.02)", num)
    .option("--weight-decay <wd>", "(1e-4)", num)
    .option("--batch-size <n>", "images per iteration (16)", int)
    .option("--train-sizes <list>", "short sides drawn in training (VOC 480..800 by 32)", intList)
    .option("--test-size <n>", "(800)", int)
    .option("--max-size <n>", "(1333)", int)
    .option("--frozen-bn", "keep the backbone's BatchNorm fixed")
    .option("--roi-batch-per-image <n>", "RoIs sampled per training image (512)", int)
    .option("--classes <list>", "class names of a VOC-layout dataset of one's own", (v: string) =>
      v.split(","),
    )
    .option("--seed <n>", "(0)", int)
    .option("--eval-images <n>", "evaluate on the first n val images only (all)", int)
    .option("--out <dir>", "(runs/det)")
    .action(async (o) => {
      const given = resolveConfig(DetConfigSchema, o, o.config);
      const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
      const c = detDefaults(given.dataset, defined);
      if (c.head === "c4" && c.backbone === "mobilenet_v2") {
        throw new Error("--head c4 needs a ResNet backbone; use --head fpn with mobilenet_v2");
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
    });

  transfer
    .command("det-task")
    .description(
      "write the offline detection task (Fashion-MNIST objects on canvases, COCO JSON + VOC XML)",
    )
    .requiredOption("--out <dir>", "output folder")
    .option(
      "--fmnist <dir>",
      "Fashion-MNIST idx files",
      process.env.KDEP_FMNIST ?? "/usr/share/datasets/fashion-mnist",
    )
    .option("--train <n>", "training images", int, 400)
    .option("--val <n>", "val images", int, 100)
    .option("--seed <n>", "", int, 0)
    .action(async (o) => {
      const names = await writeSyntheticDetection({
        fmnistDir: o.fmnist,
        outDir: o.out,
        train: o.train,
        val: o.val,
        seed: o.seed,
      });
      console.log(`Wrote ${o.train} + ${o.val} images of ${names.join(", ")} to ${o.out}`);
      console.log(`Train: kdep transfer det --dataset folder --data ${o.out} --head fpn ...`);
    });
}
