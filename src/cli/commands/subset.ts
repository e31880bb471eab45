// `kdep subset`: the class-balanced ImageNet subset of docs/method.md#pipeline.
import type { Command } from "commander";
import { makeSubset } from "../../data/datasets/subset.js";

/** The paper's recipe: 128 images × 1000 classes = 10% of ImageNet-1K. */
export const SUBSET_DEFAULTS = { perClass: 128 };

export function registerSubset(program: Command): void {
  program
    .command("subset")
    .description("make a class-balanced ImageNet subset (hard links; val/ carried along)")
    .argument("<src>", "ImageNet root with train/<wnid>/ and val/<wnid>/")
    .argument("<dst>", "output root (created)")
    .option("--per-class <n>", "images per class", String(SUBSET_DEFAULTS.perClass))
    .option("--seed <s>", "random seed (printed and recorded in dst/kdep-subset.json)")
    .action(async (src: string, dst: string, opts: { perClass: string; seed?: string }) => {
      const perClass = Number(opts.perClass);
      // No seed given: draw one, and say which, so the subset can be remade.
      const seed =
        opts.seed !== undefined ? Number(opts.seed) : Math.floor(Math.random() * 2 ** 31);
      if (!Number.isInteger(perClass) || perClass < 1)
        program.error(`--per-class expects a positive integer, got "${opts.perClass}"`);
      if (!Number.isSafeInteger(seed) || seed < 0)
        program.error(`--seed expects a non-negative integer, got "${opts.seed}"`);
      await makeSubset({ src, dst, perClass, seed });
    });
}
