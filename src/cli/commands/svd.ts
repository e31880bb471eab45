// `kdep svd`: one pass of the teacher over the data with the training augmentation → the
// SVD basis (V, μ, σ) that `kdep distill` aligns the student's feature to.
import { z } from "zod";
import { kdepTrainTransform } from "../../data/transforms/pipeline.js";
import { runSvd } from "../../pipelines/kdep/svdPass.js";
import { defineCommand } from "../options.js";
import { loadTeacher, trainFolder } from "../teacher.js";

export const SvdSchema = z
  .object({
    data: z
      .string()
      .describe("ImageFolder root (its train/ is used when present), e.g. the subset")
      .meta({ arg: "dir" }),
    out: z
      .string()
      .describe("output folder for V.npy, mean.npy, singular_values.npy, svd.json")
      .meta({ arg: "dir" }),
    teacher: z.string().default("resnet50").describe("teacher architecture").meta({ arg: "arch" }),
    teacherWeights: z
      .string()
      .optional()
      .describe("file, URL or torchvision:<arch>")
      .meta({ arg: "spec" }),
    imageSize: z.number().int().positive().default(224).describe("input size"),
    batchSize: z.number().int().positive().default(256).describe("images per forward pass"),
    workers: z.number().int().min(0).default(2).describe("loader threads"),
    seed: z.number().int().min(0).default(0).describe("augmentation seed"),
    exact: z
      .boolean()
      .default(false)
      .describe("keep every feature and use torch.linalg.svd (O(N·d) memory; for checking)"),
    device: z
      .string()
      .default("cpu")
      .describe("where the teacher runs: cpu or cuda:N")
      .meta({ arg: "dev" }),
  })
  .strict();

export const svdCommand = defineCommand({
  name: "svd",
  description: "one pass of the teacher over the data with the training augmentation → V, μ, σ",
  schema: SvdSchema,
  config: true,
  run: async (o) => {
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
      exact: o.exact,
      device: o.device,
      checkpointEvery: 20,
    });
    console.log(
      r.stopped
        ? `Stopped after ${r.manifest.count} features; run the same command again to continue`
        : `SVD of ${r.manifest.count} features (${teacher.id}) written to ${o.out}`,
    );
  },
});
