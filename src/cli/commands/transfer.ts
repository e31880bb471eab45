// `kdep transfer cls`: fine-tune (or linear-probe) a pre-trained backbone on a classification
// dataset with kdep-method.md §7's protocol; `--runs N` repeats it with seeds.
import type { Command } from "commander";
import { createModel } from "../../models/registry.js";
import { loadWeightsInto, resolveWeights } from "../../models/weights.js";
import { runClassification } from "../../pipelines/transfer/classify.js";
import { DATASETS, TransferConfigSchema } from "../../pipelines/transfer/classifyConfig.js";
import { transferData, transferTransforms } from "../../pipelines/transfer/datasets.js";
import { int, num, resolveConfig } from "../config.js";

export function registerTransfer(program: Command): void {
  const transfer = program.command("transfer").description("transfer a pre-trained backbone to downstream tasks");
  transfer
    .command("cls")
    .description("classification transfer (kdep-method.md §7)")
    .option("--config <file>", "JSON or YAML config; flags override it")
    .option("--dataset <name>", DATASETS.join(" | "))
    .option("--data <path>", "dataset root (CIFAR-100: the .tar.gz or its folder)")
    .option("--backbone <arch>", "registry architecture (resnet18)")
    .option("--weights <spec>", "student.pth, torchvision/robustness checkpoint, URL or torchvision:<arch>; none = random init")
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
      const data = await transferData(c.dataset, c.data);
      const t = transferTransforms(c, data.mean, data.std);
      const results = [];
      for (let run = 0; run < c.runs; run++) {
        const backbone = createModel(c.backbone, { numClasses: 0 });
        if (c.weights) {
          const w = await resolveWeights(c.weights);
          for (const line of loadWeightsInto(backbone, w.path, { strict: false })) process.stderr.write(`weights: ${line}\n`);
        }
        const r = await runClassification({
          config: c,
          backbone,
          numClasses: data.numClasses,
          train: data.train,
          test: data.test,
          trainTransform: t.train,
          testTransform: t.test,
          run,
        });
        results.push(r);
        console.log(
          `run ${run}: best top-1 ${r.bestTop1.toFixed(2)} (epoch ${r.bestEpoch}), final top-1 ${r.finalTop1.toFixed(2)}, top-5 ${r.finalTop5.toFixed(2)}, per-class ${r.finalMeanPerClass.toFixed(2)}`,
        );
      }
      const best = results.map((r) => r.bestTop1);
      const mean = best.reduce((a, b) => a + b, 0) / best.length;
      console.log(`${c.dataset}: best top-1 ${mean.toFixed(2)} over ${best.length} run(s) [${best.map((b) => b.toFixed(2)).join(", ")}]`);
    });
}
