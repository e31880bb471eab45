// The demo's dense transfers: every pre-trained student fine-tuned as a PSPNet backbone
// (mIoU) and as the trunk of a Faster R-CNN with FPN (COCO AP50 and AP) on the offline
// canvases of the held-out classes, once per seed. Seed k gives every method the same
// task, head initialisation draw, data order and augmentation, so methods pair seed by seed.
import { join } from "node:path";
import { loadStateDictFile } from "../../io/tensors.js";
import { scaledChannels } from "../../models/detection/fpn.js";
import { PSPNet } from "../../models/pspnet.js";
import { detDefaults } from "../transfer/detection/config.js";
import { loadDetection } from "../transfer/detection/data.js";
import { runDetection } from "../transfer/detection/train.js";
import { SegConfigSchema, withRecipe } from "../transfer/segConfig.js";
import { segData } from "../transfer/segData.js";
import { runSegmentation } from "../transfer/segment.js";
import type { DenseTasks } from "./denseTasks.js";
import type { Pretrained } from "./pretrain.js";
import type { DenseTaskResult, SeedRuns } from "./result.js";
import type { DemoSettings } from "./settings.js";
import { seedRuns } from "./transferStage.js";

export interface DenseContext {
  s: DemoSettings;
  runs: string;
  /** The run's seeds; the dense tasks take the first `s.dense.seeds` of them. */
  seeds: number[];
  tasks: DenseTasks;
  progress: "auto" | "bar" | "lines" | "quiet";
  log: (line: string) => void;
}

/** Final mIoU (%) of one PSPNet fine-tuning (the recipe's optimiser, poly schedule, aux loss). */
async function segOnce(
  x: DenseContext,
  p: Pretrained,
  seed: number,
  data: Awaited<ReturnType<typeof segData>>,
): Promise<number> {
  const { s } = x;
  const g = s.dense.seg;
  const net = {
    backbone: s.student.arch as "resnet18",
    width: s.width,
    headChannels: scaledChannels(512, s.width),
  };
  const config = withRecipe(
    SegConfigSchema.parse({
      dataset: "folder",
      data: x.tasks.seg,
      ...net,
      epochs: g.epochs,
      batchSize: g.batchSize,
      lr: g.lr,
      crop: g.size,
      baseSize: g.size,
      evalEvery: g.epochs,
      saveImages: 2,
      workers: 0,
      seed,
      out: join(x.runs, `seg-${p.id}-seed${seed}`),
    }),
  );
  const r = await runSegmentation({
    config,
    data,
    progress: x.progress,
    createModel: () => {
      const m = new PSPNet({ ...net, numClasses: data.classes.length, dropout: config.dropout });
      if (p.weights) {
        const { stateDict } = loadStateDictFile(p.weights);
        m.loadBackbone(stateDict, p.weights);
        for (const t of stateDict.values()) t.dispose();
      }
      return m;
    },
  });
  if (r.stopped) throw new Error(`segmentation ${p.id} seed ${seed} stopped before its end`);
  return 100 * r.finalMIoU;
}

/** COCO AP50 and AP (%) of one Faster R-CNN fine-tuning, the VOC schedule's shape scaled. */
async function detOnce(
  x: DenseContext,
  p: Pretrained,
  seed: number,
  data: Awaited<ReturnType<typeof loadDetection>>,
): Promise<{ AP50: number; AP: number }> {
  const { s } = x;
  const d = s.dense.det;
  const it = d.iterations;
  const c = detDefaults("folder", {
    data: x.tasks.det,
    backbone: s.student.arch as "resnet18",
    width: s.width,
    head: "fpn",
    weights: p.weights ?? "none",
    out: join(x.runs, `det-${p.id}-seed${seed}`),
    iterations: it,
    // VOC's 18k iterations drop at 12k and 16k after a 1k warm-up: the same fractions.
    steps: [Math.round((it * 2) / 3), Math.round((it * 8) / 9)],
    warmupIters: Math.max(1, Math.round(it / 18)),
    batchSize: d.batchSize,
    lr: d.lr,
    trainSizes: [d.imageSize],
    testSize: d.imageSize,
    maxSize: Math.round((d.imageSize * 5) / 3),
    roiBatchPerImage: d.roiBatchPerImage,
    // torchvision's 2000/1000 proposals are for 800-px images; these hold ~1/50 the pixels.
    rpnPreNms: [600, 300],
    rpnPostNms: [300, 100],
    seed,
    checkpointEvery: it,
    drawImages: 2,
  });
  const r = await runDetection(c, data, { progress: x.progress });
  if (!r.metrics) throw new Error(`detection ${p.id} seed ${seed} stopped before its end`);
  return { AP50: r.metrics.AP50, AP: r.metrics.AP };
}

const list = (a: number[]) => a.map((v) => v.toFixed(2)).join(", ");

/** Segmentation then detection for every method over the dense seeds. */
export async function denseAll(x: DenseContext, pre: Pretrained[]): Promise<DenseTaskResult[]> {
  const seeds = x.seeds.slice(0, x.s.dense.seeds);
  const g = x.s.dense.seg;
  const d = x.s.dense.det;
  const classes = "the held-out classes";
  const segStart = Date.now();
  const data = await segData("folder", x.tasks.seg);
  const seg: Record<string, SeedRuns> = {};
  for (const p of pre) {
    const runs: number[] = [];
    for (const seed of seeds) runs.push(await segOnce(x, p, seed, data));
    seg[p.id] = seedRuns(runs);
    x.log(`${p.label} (${p.data}): segmentation mIoU ${list(runs)}`);
  }
  const segSeconds = (Date.now() - segStart) / 1000;
  const detStart = Date.now();
  const detData = await loadDetection("folder", x.tasks.det);
  const ap50: Record<string, SeedRuns> = {};
  const ap: Record<string, SeedRuns> = {};
  for (const p of pre) {
    const runs: { AP50: number; AP: number }[] = [];
    for (const seed of seeds) runs.push(await detOnce(x, p, seed, detData));
    ap50[p.id] = seedRuns(runs.map((r) => r.AP50));
    ap[p.id] = seedRuns(runs.map((r) => r.AP));
    x.log(
      `${p.label} (${p.data}): detection AP50 ${list(runs.map((r) => r.AP50))}; AP ${list(runs.map((r) => r.AP))}`,
    );
  }
  const detSeconds = (Date.now() - detStart) / 1000;
  const w = x.s.width;
  return [
    {
      task: "segmentation",
      metric: "mIoU",
      byMethod: seg,
      seeds,
      seconds: segSeconds,
      description: `PSPNet (${x.s.student.arch} width ${w}, head ${scaledChannels(512, w)} channels) fine-tuned ${g.epochs} epochs (batch ${g.batchSize}, lr ${g.lr}, poly) on ${g.train} canvases of ${g.size} px with ${g.objects[0]}–${g.objects[1]} pasted images of ${classes}; mIoU over background and each class on ${g.val} val canvases`,
    },
    {
      task: "detection",
      metric: "AP50",
      byMethod: ap50,
      also: { metric: "AP", byMethod: ap },
      seeds,
      seconds: detSeconds,
      description: `Faster R-CNN with FPN (${x.s.student.arch} width ${w}, pyramid ${scaledChannels(256, w)} channels) fine-tuned ${d.iterations} iterations of ${d.batchSize} images (lr ${d.lr}) on ${d.train} canvases of ${d.minSide}–${d.maxSide} px with up to ${d.maxObjects} pasted images of ${classes}, resized to a ${d.imageSize}-px short side; COCO AP50 and AP on ${d.val} val canvases`,
    },
  ];
}
