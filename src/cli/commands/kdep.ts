// `kdep svd` and `kdep distill`: the two stages of KDEP pre-training on real data
// (an ImageFolder such as the 10% ImageNet subset made by `kdep subset`).
import type { Command } from "commander";
import { runDistill, runSvd } from "../../api/kdep.js";
import { DistillConfigSchema } from "../../pipelines/kdep/distillConfig.js";
import { int, num, resolveConfig } from "../config.js";

export function registerKdep(program: Command): void {
  program
    .command("svd")
    .description(
      "one pass of the teacher over the data with the training augmentation → V, μ, σ (docs/method.md#svd-alignment)",
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
      const r = await runSvd(o);
      console.log(
        r.stopped
          ? `Stopped after ${r.manifest.count} features; run the same command again to continue`
          : `SVD of ${r.manifest.count} features (${r.teacherId}) written to ${o.out}`,
      );
    });

  program
    .command("distill")
    .description(
      "distil the teacher's SVD-aligned, PTS-scaled feature into a student (docs/method.md#loss-and-optimisation)",
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
      const { resume, ...rest } = o;
      const flags = { ...rest, pts: o.pts === false ? false : undefined };
      const c = resolveConfig(DistillConfigSchema, flags, o.config);
      const r = await runDistill({ ...c, resume: Boolean(resume) });
      console.log(
        r.stopped
          ? `Stopped in epoch ${r.epochsDone + 1} after step ${r.stepInEpoch}; continue with the same command and --resume (checkpoint in ${r.runDir})`
          : `Student written to ${r.studentPath} (${r.epochsDone} epochs, ${r.seconds.toFixed(0)} s)`,
      );
    });
}
