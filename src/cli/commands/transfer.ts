// `kdep transfer cls`: fine-tune (or linear-probe) a pre-trained backbone on a classification
// dataset with the protocol of docs/method.md#classification-transfer; `--runs N` repeats it
// with seeds.

import type { Command } from "commander";
import { parseStudents, runTransferSuite, type SuiteOptions } from "../../api/suite.js";
import { runClassification } from "../../api/transfer.js";
import { DATASETS, TransferConfigSchema } from "../../pipelines/transfer/classifyConfig.js";
import { int, num, resolveConfig } from "../config.js";

export function registerTransfer(program: Command): void {
  const transfer = program
    .command("transfer")
    .description("transfer a pre-trained backbone to downstream tasks");
  transfer
    .command("cls")
    .description("classification transfer (docs/method.md#classification-transfer)")
    .option("--config <file>", "JSON or YAML config; flags override it")
    .option("--dataset <name>", DATASETS.join(" | "))
    .option("--data <path>", "dataset root (CIFAR-100: the .tar.gz or its folder)")
    .option("--backbone <arch>", "registry architecture (resnet18)")
    .option("--width <n>", "ResNet base width (64); narrower for quick runs", int)
    .option(
      "--weights <spec>",
      "student.pth, torchvision/robustness checkpoint, URL or torchvision:<arch>; none = random init",
    )
    .option("--mode <mode>", "finetune | linear-probe")
    .option("--epochs <n>", "(150)", int)
    .option("--batch-size <n>", "(64)", int)
    .option("--lr <lr>", "(0.001)", num)
    .option("--lr-step <n>", "×0.1 every n epochs (50)", int)
    .option("--weight-decay <wd>", "(5e-4)", num)
    .option("--eval-every <n>", "(5)", int)
    .option("--image-size <n>", "(224)", int)
    .option("--resize <n>", "test-time resize before the centre crop (256)", int)
    .option("--runs <n>", "repetitions with seeds seed, seed+1, … (1)", int)
    .option("--seed <n>", "(0)", int)
    .option("--workers <n>", "(2)", int)
    .option("--out <dir>", "(runs/transfer)")
    .option("--device <dev>", "cpu or cuda:N")
    .action(async (o) => {
      const c = resolveConfig(TransferConfigSchema, o, o.config);
      if (!c.data) throw new Error("transfer cls needs --data");
      const results = await runClassification(c);
      results.forEach((r, run) => {
        console.log(
          `run ${run}: best top-1 ${r.bestTop1.toFixed(2)} (epoch ${r.bestEpoch}), final top-1 ${r.finalTop1.toFixed(2)}, top-5 ${r.finalTop5.toFixed(2)}, per-class ${r.finalMeanPerClass.toFixed(2)}`,
        );
      });
      const best = results.map((r) => r.bestTop1);
      const mean = best.reduce((a, b) => a + b, 0) / best.length;
      console.log(
        `${c.dataset}: best top-1 ${mean.toFixed(2)} over ${best.length} run(s) [${best.map((b) => b.toFixed(2)).join(", ")}]`,
      );
    });

  transfer
    .command("suite")
    .description(
      "CIFAR-100, DTD, Caltech-256 and CUB-200 for one or more students → Figure-1 table (md, csv, json, png)",
    )
    .requiredOption(
      "--students <list>",
      "comma-separated checkpoints, name=path to label them; none = random init",
    )
    .requiredOption(
      "--data-root <dir>",
      "folder holding cifar-100-python, dtd, 256_ObjectCategories, CUB_200_2011",
    )
    .option(
      "--datasets <list>",
      "subset of cifar100,dtd,caltech256,cub200",
      "cifar100,dtd,caltech256,cub200",
    )
    .option("--backbone <arch>", "architecture of the students", "resnet18")
    .option("--width <n>", "ResNet base width of the students (64)", int)
    .option("--runs <n>", "runs per dataset (the paper: 2)", int, 2)
    .option("--epochs <n>", "(150)", int)
    .option("--batch-size <n>", "(64)", int)
    .option("--lr <lr>", "(0.001)", num)
    .option("--lr-step <n>", "×0.1 every n epochs (50)", int)
    .option("--eval-every <n>", "(5)", int)
    .option("--image-size <n>", "(224)", int)
    .option("--resize <n>", "test-time resize before the centre crop (256)", int)
    .option("--seed <n>", "(0)", int)
    .option("--workers <n>", "(2)", int)
    .option("--device <dev>", "cpu or cuda:N")
    .option("--out <dir>", "suite folder", "runs/suite")
    .action(async (o) => {
      const r = await runTransferSuite(
        {
          students: parseStudents(String(o.students)),
          dataRoot: o.dataRoot,
          datasets: String(o.datasets).split(","),
          backbone: o.backbone,
          runs: o.runs,
          out: o.out,
          width: o.width,
          epochs: o.epochs,
          batchSize: o.batchSize,
          lr: o.lr,
          lrStep: o.lrStep,
          evalEvery: o.evalEvery,
          imageSize: o.imageSize,
          resize: o.resize,
          seed: o.seed,
          workers: o.workers,
          device: o.device,
        } as SuiteOptions,
        (line) => console.log(line),
      );
      console.log(`Suite table: ${r.files.md} (csv, json, png beside it)`);
    });
}
