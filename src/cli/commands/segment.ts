// `kdep transfer seg`: PSPNet segmentation transfer with KDEP's PSPNet recipe, and the
// segmentation rows of `kdep transfer suite`.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { writePastedTask } from "../../data/segSynth.js";
import { fromRaw } from "../../io/tensors.js";
import { PSPNet } from "../../models/pspnet.js";
import { resolveWeights } from "../../models/weights.js";
import { readSource } from "../../pipelines/convert/source.js";
import {
  SEG_DATASETS,
  type SegConfig,
  SegConfigSchema,
  type SegDatasetName,
  withRecipe,
} from "../../pipelines/transfer/segConfig.js";
import { segData } from "../../pipelines/transfer/segData.js";
import { runSegmentation, type SegmentResult } from "../../pipelines/transfer/segment.js";
import { int, num, resolveConfig } from "../config.js";

const list = (v: string): number[] => v.split(",").map((s) => num(s));
const bool = (v: string): boolean => {
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new InvalidArgumentError("Expected true or false.");
};

/** The backbone's weights in torchvision keys (MobileNetV2 reference layouts renamed). */
function backboneState(path: string) {
  const { stateDict } = readSource(path);
  return new Map([...stateDict].map(([k, v]) => [k, fromRaw(v)]));
}

/** Runs one segmentation transfer; "none" (or no weights) is a random init. */
export async function segTransfer(c: SegConfig, log = true): Promise<SegmentResult> {
  if (!c.data) throw new Error("transfer seg needs --data");
  const data = await segData(c.dataset, c.data, { trainList: c.trainList });
  const weights = c.weights && c.weights !== "none" ? (await resolveWeights(c.weights)).path : null;
  return runSegmentation({
    config: c,
    data,
    createModel: () => {
      const m = new PSPNet({
        backbone: c.backbone,
        numClasses: data.classes.length,
        width: c.width,
        headChannels: c.headChannels,
        dropout: c.dropout,
      });
      if (weights) {
        const sd = backboneState(weights);
        const head = m.loadBackbone(sd, weights);
        for (const t of sd.values()) t.dispose();
        if (log && head.length)
          process.stderr.write(`weights: left out the classifier (${head.join(", ")})\n`);
      }
      return m;
    },
  });
}

export function printSegResult(c: SegConfig, r: SegmentResult): void {
  const pct = (v: number) => (100 * v).toFixed(2);
  if (r.stopped) {
    console.log(`stopped after epoch ${r.epochs}; run again with the same --out to resume`);
    return;
  }
  const table = join(r.runDir, "per_class.md");
  if (existsSync(table)) console.log(readFileSync(table, "utf8"));
  console.log(
    `${c.dataset}: best mIoU ${pct(r.bestMIoU)} (epoch ${r.bestEpoch}), final mIoU ${pct(r.finalMIoU)}, pixel accuracy ${pct(r.finalPixelAcc)} — ${r.runDir}/result.json, per_class.md, confusion.csv, predictions/`,
  );
}

export function registerTransferSeg(transfer: Command): void {
  transfer
    .command("seg")
    .description("segmentation transfer: PSPNet on a pre-trained backbone, KDEP's recipe")
    .option("--config <file>", "JSON or YAML config; flags override it")
    .option("--dataset <name>", `${SEG_DATASETS.join(" | ")} (voc)`)
    .option("--data <path>", "dataset root (folder: images/, masks/, classes.txt, train/val lists)")
    .option("--train-list <file>", "VOC: the SBD train_aug list")
    .option("--backbone <arch>", "resnet18 | resnet34 | resnet50 | resnet101 | mobilenet_v2")
    .option("--width <n>", "ResNet base width (64)", int)
    .option("--head-channels <n>", "PSP head channels (512)", int)
    .option(
      "--weights <spec>",
      "backbone: student.pth, any checkpoint kdep reads, URL, torchvision:<arch>; none = random",
    )
    .option("--epochs <n>", "(Cityscapes 200, VOC 50, ADE20K 100, folder 50)", int)
    .option("--batch-size <n>", "(16)", int)
    .option(
      "--lr <lr>",
      "backbone lr; heads get --head-lr-mult × (0.01; MNV2 on Cityscapes 0.006)",
      num,
    )
    .option("--head-lr-mult <x>", "(10)", num)
    .option("--power <p>", "poly schedule power (0.9)", num)
    .option("--momentum <m>", "(0.9)", num)
    .option("--weight-decay <wd>", "(1e-4)", num)
    .option("--aux-weight <w>", "aux loss weight (0.4; MNV2 on ADE20K 0)", num)
    .option("--dropout <p>", "(0.1)", num)
    .option("--crop <n>", "train crop and eval window (512)", int)
    .option(
      "--scale-min <s>",
      "random scale range (Cityscapes/ADE20K/folder 0.5–2.0, VOC 0.5–1.5)",
      num,
    )
    .option("--scale-max <s>", "", num)
    .option("--rotate <deg>", "random rotation ± degrees (10)", num)
    .option("--base-size <n>", "eval long side (Cityscapes 2048, others 512)", int)
    .option("--eval-scales <list>", "comma-separated eval scales (1)", list)
    .option("--eval-flip <bool>", "average each window with its flip (true)", bool)
    .option("--eval-every <n>", "evaluate every n epochs (5)", int)
    .option("--save-images <n>", "val images saved as image | truth | prediction (5)", int)
    .option("--save-labels", "every val prediction as a label PNG in predictions/labels/")
    .option("--seed <n>", "(0)", int)
    .option("--workers <n>", "(2)", int)
    .option("--out <dir>", "(runs/seg)")
    .option("--device <dev>", "cpu or cuda:N")
    .action(async (o) => {
      const c = withRecipe(resolveConfig(SegConfigSchema, o, o.config));
      printSegResult(c, await segTransfer(c));
    });
  registerSegTask(transfer);
}

function registerSegTask(transfer: Command): void {
  transfer
    .command("seg-task")
    .description(
      "write the offline segmentation task: Fashion-MNIST objects pasted on canvases, with masks",
    )
    .requiredOption("--out <dir>", "new folder to write (refused if it exists)")
    .option("--fmnist <dir>", "Fashion-MNIST idx files", "/usr/share/datasets/fashion-mnist")
    .option("--classes <list>", "Fashion-MNIST classes to paste", "Coat,Shirt,Dress,Ankle boot")
    .option("--train <n>", "training canvases", int, 200)
    .option("--val <n>", "validation canvases", int, 50)
    .option("--size <n>", "canvas side in pixels", int, 64)
    .option("--layout <kind>", "folder | voc", "folder")
    .option("--seed <n>", "", int, 0)
    .action(async (o) => {
      if (o.layout !== "folder" && o.layout !== "voc")
        throw new Error(`--layout: expected folder or voc but received "${o.layout}"`);
      const root = await writePastedTask({
        fmnistDir: o.fmnist,
        out: o.out,
        classes: String(o.classes).split(","),
        train: o.train,
        val: o.val,
        size: o.size,
        layout: o.layout,
        seed: o.seed,
      });
      console.log(`wrote ${o.train} + ${o.val} canvases to ${root}`);
    });
}

/** Where each segmentation dataset lives under the suite's --data-root. */
export const SEG_SUITE: Array<{ dataset: SegDatasetName; dirs: string[] }> = [
  { dataset: "voc", dirs: ["VOCdevkit", "VOC2012", "voc"] },
  { dataset: "cityscapes", dirs: ["cityscapes", "Cityscapes"] },
  { dataset: "ade20k", dirs: ["ADEChallengeData2016", "ade20k"] },
  { dataset: "folder", dirs: ["seg-folder", "segfolder"] },
];
