// `kdep targets`: the teacher-target cache that `kdep distill --targets` trains from.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { imageFolder } from "../../data/datasets/imageFolder.js";
import { kdepTrainTransform } from "../../data/transforms/pipeline.js";
import { loadSvd } from "../../pipelines/kdep/svdPass.js";
import { svdHash } from "../../pipelines/kdep/targetCacheFormat.js";
import { runTargets } from "../../pipelines/kdep/targetCacheWriter.js";
import { int } from "../config.js";
import { loadTeacher } from "./kdep.js";

export function registerTargets(program: Command): void {
  program
    .command("targets")
    .description(
      "cache the teacher's SVD-projected targets for every epoch's augmentation, so `distill --targets` runs no teacher",
    )
    .requiredOption("--data <dir>", "ImageFolder root (its train/ is used when present)")
    .requiredOption("--svd <dir>", "folder written by `kdep svd` for this teacher")
    .requiredOption("--epochs <n>", "epochs to cache (as many as distill trains)", int)
    .requiredOption("--out <dir>", "cache folder")
    .option("--teacher <arch>", "teacher architecture", "resnet50")
    .option("--teacher-weights <spec>", "file, URL or torchvision:<arch>")
    .option(
      "--k <n>",
      "target dims kept: the largest student feature (512 for ResNet-18/34, 1280 for MobileNetV2)",
      int,
      512,
    )
    .option("--image-size <n>", "input size (as distill's --image-size)", int, 224)
    .option("--batch-size <n>", "images per teacher pass and per checksummed chunk", int, 256)
    .option("--workers <n>", "loader threads", int, 2)
    .option("--seed <n>", "augmentation seed (as distill's --seed)", int, 0)
    .option("--device <dev>", "where the teacher runs: cpu or cuda:N", "cpu")
    .addHelpText(
      "after",
      `
Ctrl-C finishes the current chunk and exits; the same command continues where it stopped
(and so does a killed run), writing the same bytes. A folder built with other settings is
refused, naming them. More --epochs extend an existing cache.`,
    )
    .action(async (o) => {
      const teacher = await loadTeacher(o.teacher, o.teacherWeights, o.seed);
      const root = existsSync(join(o.data, "train")) ? join(o.data, "train") : o.data;
      const data = await imageFolder(root);
      const svd = loadSvd(o.svd, teacher.id);
      const r = await runTargets({
        teacher: teacher.model,
        teacherId: teacher.id,
        svd,
        svdHash: svdHash(o.svd),
        data,
        transform: kdepTrainTransform(o.imageSize),
        out: o.out,
        epochs: o.epochs,
        k: o.k,
        batchSize: o.batchSize,
        workers: o.workers,
        seed: o.seed,
        device: o.device,
      });
      console.log(
        r.stopped
          ? `Stopped after ${r.chunks} chunks; run the same command again to continue`
          : `Targets of ${r.manifest.epochs} epochs × ${data.length} images (k = ${r.manifest.k}) in ${o.out}`,
      );
    });
}
