// `kdep subset`: the class-balanced ImageNet subset of the paper (128 images × 1000 classes
// = 10% of ImageNet-1K).
import { z } from "zod";
import { makeSubset } from "../../data/datasets/subset.js";
import { defineCommand } from "../options.js";

export const SubsetSchema = z
  .object({
    src: z.string().describe("ImageNet root with train/<wnid>/ and val/<wnid>/"),
    dst: z.string().describe("output root (created)"),
    perClass: z.number().int().positive().default(128).describe("images per class"),
    seed: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("random seed; unset: drawn, printed and recorded in dst/kdep-subset.json"),
  })
  .strict();

export const subsetCommand = defineCommand({
  name: "subset",
  description: "make a class-balanced ImageNet subset (hard links; val/ carried along)",
  schema: SubsetSchema,
  args: ["src", "dst"],
  run: async ({ src, dst, perClass, seed }) => {
    // No seed given: draw one (makeSubset prints it), so the subset can be remade.
    await makeSubset({ src, dst, perClass, seed: seed ?? Math.floor(Math.random() * 2 ** 31) });
  },
});
