// `kdep svd` and `kdep distill`: the two stages of KDEP pre-training on real data
// (an ImageFolder such as the 10% ImageNet subset made by `kdep subset`).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { imageFolder } from "../../data/datasets/imageFolder.js";
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  kdepTrainTransform,
  type TransformStep,
} from "../../data/transforms/pipeline.js";
import { createModel } from "../../models/registry.js";
import { loadWeightsInto, resolveWeights } from "../../models/weights.js";
import { CHECKPOINT_FILE } from "../../pipelines/common/trainLoop.js";
import { runDistill } from "../../pipelines/kdep/distill.js";
import { DistillConfigSchema } from "../../pipelines/kdep/distillConfig.js";
import { loadSvd, runSvd } from "../../pipelines/kdep/svdPass.js";
import { manualSeed } from "../../tensor/index.js";
import { int, num, resolveConfig } from "../config.js";
import { addDistOptions, joinDistributed, splitDistFlags } from "../distOptions.js";

/** ImageNet evaluation transform scaled to the image size (Resize 256 → CenterCrop 224). */
export function valTransform(size: number): TransformStep[] {
  return [
    { op: "resize", size: Math.round((size * 256) / 224) },
    { op: "centerCrop", size },
    { op: "toTensor" },
    { op: "normalize", mean: IMAGENET_MEAN, std: IMAGENET_STD },
  ];
}

export async function loadTeacher(arch: string, weights: string | undefined, seed: number) {
  manualSeed(seed);
  const model = createModel(arch, { preReluFeature: true });
  if (!weights) {
    process.stderr.write(
      `warning: no --teacher-weights; using a randomly initialised ${arch} (seed ${seed})\n`,
    );
    return { model, id: `${arch}@random-seed${seed}` };
  }
  const w = await resolveWeights(weights);
  for (const line of loadWeightsInto(model, w.path, { strict: false }))
    process.stderr.write(`teacher: ${line}\n`);
  return { model, id: `${arch}@${w.hash}` };
}

async function trainFolder(data: string) {
  const root = existsSync(join(data, "train")) ? join(data, "train") : data;
  const train = await imageFolder(root);
  const valDir = join(data, "val");
  const val = existsSync(valDir)
    ? await imageFolder(valDir, { classes: train.classes })
    : undefined;
  return { train, val };
}

export function registerKdep(program: Command): void {
  program
    .command("svd")
    .description(
      "one pass of the teacher over the data with the training augmentation → V, μ, σ (kdep-method.md §3)",
    )
    .requiredOption(
      "--data <dir>",
      "ImageFolder root (its train/ is used when present), e.g. the 10% subset",
    )
    .requiredOption(
      "--out <dir>",
      "output folder for V.npy, mean.npy, singular_values.npy, svd.json",
    )
    .option("--teacher <arch>", "teacher architecture", "resnet50")
    .option("--teacher-weights <spec>", "file, URL or torchvision:<arch>")
    .option("--image-size <n>", "input size", int, 224)
    .option("--batch-size <n>", "images per forward pass", int, 256)
    .option("--workers <n>", "loader threads", int, 2)
    .option("--seed <n>", "augmentation seed", int, 0)
    .option("--exact", "keep every feature and use torch.linalg.svd (O(N·d) memory; for checking)")
    .option("--device <dev>", "where the teacher runs: cpu or cuda:N", "cpu")
    .action(async (o) => {
      const teacher = await loadTeacher(o.teacher, o.teacherWeights, o.seed);
      const { train } = await trainFolder(o.data);
      const r = await runSvd({
        teacher: teacher.model,
        teacherId: teacher.id,
        data: train,
        transform: kdepTrainTransform(o.imageSize),
        out: o.out,
        batchSize: o.batchSize,
        workers: o.workers,
        seed: o.seed,
        exact: Boolean(o.exact),
        device: o.device,
        checkpointEvery: 20,
      });
      console.log(
        r.stopped
          ? `Stopped after ${r.manifest.count} features; run the same command again to continue`
          : `SVD of ${r.manifest.count} features (${teacher.id}) written to ${o.out}`,
      );
    });

  addDistOptions(program.command("distill"))
    .description(
      "distil the teacher's SVD-aligned, PTS-scaled feature into a student (kdep-method.md §5)",
    )
    .option("--config <file>", "JSON or YAML config (keys as below, camelCased); flags override it")
    .option("--data <dir>", "ImageFolder root with train/ (and val/)")
    .option("--svd <dir>", "folder written by `kdep svd` for this teacher")
    .option("--teacher <arch>", "teacher architecture (resnet50)")
    .option("--teacher-weights <spec>", "file, URL or torchvision:<arch>")
    .option("--student <arch>", "student architecture (resnet18)")
    .option("--align <method>", "svd | linear | none | logits")
    .option("--no-pts", "turn power temperature scaling off")
    .option("--pts-temperature <t>", "PTS T (0.1)", num)
    .option("--pts-power <n>", "PTS n (3)", num)
    .option("--loss-weight <w>", "3 for MS-R50, 20 for a supervised (torchvision) teacher", num)
    .option("--logit-weight <w>", "extra logit-KD term weight (0)", num)
    .option("--ce-weight <w>", "extra label cross-entropy weight (0)", num)
    .option("--epochs <n>", "epochs (90)", int)
    .option("--batch-size <n>", "batch (512)", int)
    .option("--micro-batch <n>", "accumulate gradients over chunks of this size", int)
    .option("--lr <lr>", "0.3 for ResNet students, 0.1 for MobileNetV2", num)
    .option("--lr-step <n>", "×gamma every n epochs (30)", int)
    .option("--weight-decay <wd>", "(5e-4)", num)
    .option("--image-size <n>", "(224)", int)
    .option("--val-every <n>", "validation distillation loss every n epochs (5)", int)
    .option("--workers <n>", "loader threads (2)", int)
    .option("--seed <n>", "(0)", int)
    .option("--out <dir>", "run folder (runs/distill)")
    .option("--checkpoint-every <n>", "also checkpoint every n steps within an epoch (200)", int)
    .option("--device <dev>", "cpu or cuda:N")
    .option("--channels-last", "NHWC activations")
    .option("--resume", "continue the run in --out from its last checkpoint")
    .option("--sync-bn", "data-parallel runs: batch statistics over all ranks (SyncBatchNorm)")
    .addHelpText(
      "after",
      `
Settings: a flag given wins over the same key in --config, which wins over the default
(the paper's recipe, in parentheses). Config keys are the flag names in camelCase (a run's
config.json lists them all), e.g.
  epochs: 90
  batchSize: 512
  teacherWeights: torchvision:resnet50
Unknown keys and bad values are refused, naming the key. The resolved settings are written
to <out>/config.json. Ctrl-C finishes the step, writes a checkpoint and exits 0; continue
with the same command and --resume.`,
    )
    .action(async (o) => {
      const [dist, { resume, ...rest }] = splitDistFlags(o);
      const flags = { ...rest, pts: o.pts === false ? false : undefined };
      const c = resolveConfig(DistillConfigSchema, flags, o.config);
      const group = joinDistributed(dist);
      const hasCheckpoint = existsSync(join(c.out, CHECKPOINT_FILE));
      if (hasCheckpoint && !resume) {
        throw new Error(
          `${c.out} already holds a checkpoint: pass --resume to continue it, or choose another --out`,
        );
      }
      if (!c.data) throw new Error("distill needs --data (an ImageFolder root with train/)");
      const teacher = await loadTeacher(c.teacher, c.teacherWeights, c.seed);
      const svd =
        c.align === "svd" ? loadSvd(c.svd ?? join(c.out, "..", "svd"), teacher.id) : undefined;
      const { train, val } = await trainFolder(c.data);
      const r = await runDistill({
        config: c,
        teacher: teacher.model,
        train,
        trainTransform: kdepTrainTransform(c.imageSize),
        val,
        valTransform: valTransform(c.imageSize),
        svd,
        distributed: group,
      });
      if (group && !group.isLead) return;
      console.log(
        r.stopped
          ? `Stopped in epoch ${r.epochsDone + 1} after step ${r.stepInEpoch}; continue with the same command and --resume (checkpoint in ${r.runDir})`
          : `Student written to ${r.studentPath} (${r.epochsDone} epochs, ${r.seconds.toFixed(0)} s)`,
      );
    });
}
