// `kdep transfer cls`: fine-tune (or linear-probe) a pre-trained backbone on a classification
// dataset with kdep-method.md §7's protocol; `--runs N` repeats it with seeds.

import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { Command } from "commander";
import type { DistGroup } from "../../distributed/group.js";
import { createModel } from "../../models/registry.js";
import { loadWeightsInto, resolveWeights } from "../../models/weights.js";
import { writeSuiteTable } from "../../pipelines/report/suiteTable.js";
import type { SuiteRow } from "../../pipelines/report/types.js";
import { runClassification } from "../../pipelines/transfer/classify.js";
import {
  DATASETS,
  type TransferConfig,
  TransferConfigSchema,
} from "../../pipelines/transfer/classifyConfig.js";
import {
  type TransferData,
  transferData,
  transferTransforms,
} from "../../pipelines/transfer/datasets.js";
import { int, num, resolveConfig } from "../config.js";
import { addDistOptions, joinDistributed, splitDistFlags } from "../distOptions.js";

/** Where each suite dataset lives under --data-root (the names the archives unpack to). */
const SUITE: Array<{ dataset: "cifar100" | "dtd" | "caltech256" | "cub200"; dirs: string[] }> = [
  {
    dataset: "cifar100",
    dirs: ["cifar-100-python", "cifar-100-python.tar.gz", "cifar-100-binary", "cifar100"],
  },
  { dataset: "dtd", dirs: ["dtd"] },
  { dataset: "caltech256", dirs: ["256_ObjectCategories", "caltech256"] },
  { dataset: "cub200", dirs: ["CUB_200_2011", "cub200"] },
];

/** "none" (or no weights at all) means a random init drawn from the run's seed. */
async function weightsPath(spec: string | undefined): Promise<string | null> {
  if (!spec || spec === "none") return null;
  return (await resolveWeights(spec)).path;
}

/** `runs` fine-tunings of a backbone (fresh weights each run) on one dataset. */
async function transferRuns(
  c: TransferConfig,
  data: TransferData,
  weights: string | null,
  distributed?: DistGroup,
) {
  const t = transferTransforms(c, data.mean, data.std);
  const results = [];
  for (let run = 0; run < c.runs; run++) {
    // Built inside the run, after its seed: a random init is then the run's own.
    const createBackbone = () => {
      const backbone = createModel(c.backbone, {
        numClasses: 0,
        ...(c.width ? { width: c.width } : {}),
      });
      if (weights) {
        const report = loadWeightsInto(backbone, weights, { strict: false });
        if (run === 0) for (const line of report) process.stderr.write(`weights: ${line}\n`);
      }
      return backbone;
    };
    results.push(
      await runClassification({
        config: c,
        createBackbone,
        numClasses: data.numClasses,
        train: data.train,
        test: data.test,
        trainTransform: t.train,
        testTransform: t.test,
        run,
        distributed,
      }),
    );
  }
  return results;
}

export function registerTransfer(program: Command): void {
  const transfer = program
    .command("transfer")
    .description("transfer a pre-trained backbone to downstream tasks");
  addDistOptions(transfer.command("cls"))
    .description("classification transfer (kdep-method.md §7)")
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
      const [dist, rest] = splitDistFlags(o);
      const c = resolveConfig(TransferConfigSchema, rest, o.config);
      if (!c.data) throw new Error("transfer cls needs --data");
      const group = joinDistributed(dist);
      const data = await transferData(c.dataset, c.data);
      const weights = await weightsPath(c.weights);
      const results = await transferRuns(c, data, weights, group);
      if (group && !group.isLead) return;
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
      const students = String(o.students)
        .split(",")
        .map((s: string) => {
          const eq = s.indexOf("=");
          const path = eq >= 0 ? s.slice(eq + 1) : s;
          const name = eq >= 0 ? s.slice(0, eq) : basename(s).replace(/\.[^.]+$/, "");
          return { name, path };
        });
      const names = students.map((s) => s.name);
      if (new Set(names).size !== names.length)
        throw new Error(`Expected distinct student names but received ${names.join(", ")}`);
      const wanted = String(o.datasets).split(",");
      const unknown = wanted.filter((d) => !SUITE.some((e) => e.dataset === d));
      if (unknown.length)
        throw new Error(
          `Unknown suite dataset(s) ${unknown.join(", ")}; expected cifar100, dtd, caltech256, cub200`,
        );
      // The protocol's defaults with only the flags given replacing them.
      const given = Object.fromEntries(
        Object.entries({
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
        }).filter(([, v]) => v !== undefined),
      );
      const rows: SuiteRow[] = [];
      for (const st of students) {
        const weights = await weightsPath(st.path);
        for (const entry of SUITE.filter((e) => wanted.includes(e.dataset))) {
          const dir = entry.dirs.map((d) => join(o.dataRoot, d)).find((p) => existsSync(p));
          if (!dir)
            throw new Error(
              `${entry.dataset}: none of ${entry.dirs.join(", ")} under ${o.dataRoot}`,
            );
          const c = TransferConfigSchema.parse({
            ...given,
            backbone: o.backbone,
            weights: st.path,
            dataset: entry.dataset,
            data: dir,
            runs: o.runs,
            out: join(o.out, st.name, entry.dataset),
          });
          const data = await transferData(c.dataset, dir);
          const accs = (await transferRuns(c, data, weights)).map((r) => r.bestTop1);
          rows.push({ student: st.name, dataset: entry.dataset, runs: accs });
          console.log(`${st.name} · ${entry.dataset}: ${accs.map((a) => a.toFixed(2)).join(", ")}`);
        }
      }
      const files = await writeSuiteTable(o.out, rows);
      console.log(`Suite table: ${files.md} (csv, json, png beside it)`);
    });
}
