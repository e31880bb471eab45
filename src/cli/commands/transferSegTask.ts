// `kdep transfer seg-task`: writes the offline segmentation task (Fashion-MNIST objects
// pasted on canvases, with masks) in the folder or VOC layout.
import { z } from "zod";
import { writePastedTask } from "../../data/segSynth.js";
import { defineCommand } from "../options.js";

export const SegTaskSchema = z
  .object({
    out: z.string().describe("new folder to write (refused if it exists)").meta({ arg: "dir" }),
    fmnist: z
      .string()
      .default("/usr/share/datasets/fashion-mnist")
      .describe("Fashion-MNIST idx files")
      .meta({ arg: "dir" }),
    classes: z
      .array(z.string().min(1))
      .nonempty()
      .default(["Coat", "Shirt", "Dress", "Ankle boot"])
      .describe("Fashion-MNIST classes to paste"),
    train: z.number().int().positive().default(200).describe("training canvases"),
    val: z.number().int().positive().default(50).describe("validation canvases"),
    size: z.number().int().min(28).default(64).describe("canvas side in pixels"),
    layout: z.enum(["folder", "voc"]).default("folder").describe("folder or VOC2012 layout"),
    seed: z.number().int().min(0).default(0).describe("random seed"),
  })
  .strict();

export const transferSegTaskCommand = defineCommand({
  name: "seg-task",
  description: "write the offline segmentation task: Fashion-MNIST objects on canvases, with masks",
  schema: SegTaskSchema,
  run: async (s) => {
    const root = await writePastedTask({ ...s, fmnistDir: s.fmnist });
    console.log(`wrote ${s.train} + ${s.val} canvases to ${root}`);
  },
});
