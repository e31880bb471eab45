// Per-stage CPU time of our KDEP train augmentation (the counterpart of stages.py):
// one thread, the same images in a loop, best of `rounds` rounds of process CPU time.
import { readFileSync } from "node:fs";
import { buildBatch } from "../../src/data/batch.js";
import type { Dataset } from "../../src/data/datasets/dataset.js";
import { type DecodedImage, type ImageSource, openImage } from "../../src/data/image.js";
import { Rng, STREAM_SAMPLE } from "../../src/data/rng.js";
import { colorJitterParams } from "../../src/data/transforms/color.js";
import { colorJitterLazy, lazy, writeNormalizedChw } from "../../src/data/transforms/fused.js";
import { randomResizedCropParams, resizedCrop } from "../../src/data/transforms/geometry.js";
import {
  floatStage,
  kdepTrainTransform,
  splitPipeline,
} from "../../src/data/transforms/pipeline.js";
import type { Box } from "../../src/data/transforms/resample.js";

/** Milliseconds of CPU per item: the best of `rounds` passes of fn over all items. */
async function cpuMs<T>(items: T[], fn: (x: T, i: number) => unknown, rounds = 5): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < items.length; i++) await fn(items[i], i);
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / 1000);
  }
  return best / items.length;
}

export async function ourStages(ds: Dataset, count: number): Promise<Record<string, number>> {
  const spec = ds.spec;
  if (spec.source.kind !== "files") throw new Error("stages: expected an image folder");
  const files = spec.source.paths.slice(0, count);
  const idx = files.map((_, i) => i);
  const { pixel, float } = splitPipeline(kdepTrainTransform());
  const jitter = pixel.find((s) => s.op === "colorJitter")!;
  const out: Record<string, number> = {};
  out["read file"] = await cpuMs(files, (f) => readFileSync(f));
  const bytes = files.map((f) => new Uint8Array(readFileSync(f)));
  const sources: ImageSource[] = [];
  for (const b of bytes) sources.push(await openImage(b, "bench"));
  // The crop boxes, flips and jitter the pipeline would draw for these samples.
  const rngs = () => idx.map((i) => new Rng(0, 0, i, STREAM_SAMPLE));
  const boxes: Box[] = rngs().map((r, i) =>
    randomResizedCropParams(r, sources[i].width, sources[i].height),
  );
  out["decode (whole image)"] = await cpuMs(bytes, async (b) => (await openImage(b, "")).decode());
  out["decode (crop box only)"] = await cpuMs(bytes, async (b, i) =>
    (await openImage(b, "")).decode(boxes[i]),
  );
  const regions = sources.map((s, i) => s.decode(boxes[i]));
  const inRegion = (i: number): Box => ({
    ...boxes[i],
    left: boxes[i].left - regions[i].left,
    top: boxes[i].top - regions[i].top,
  });
  out["crop + resize"] = await cpuMs(regions, (r, i) => resizedCrop(r, inRegion(i), 224, 224));
  const crops: DecodedImage[] = regions.map((r, i) => resizedCrop(r, inRegion(i), 224, 224));
  const jit = rngs().map((r) => colorJitterParams(r, jitter));
  const flips = rngs().map((r) => r.random() < 0.5);
  const lazyOf = (i: number) => {
    const p = lazy({ ...crops[i], data: crops[i].data.slice() });
    p.flip = flips[i];
    colorJitterLazy(p, jit[i]);
    return p;
  };
  const copy = await cpuMs(crops, (c) => c.data.slice());
  out["flip + colour jitter"] = (await cpuMs(crops, (_, i) => lazyOf(i))) - copy;
  const pending = crops.map((_, i) => lazyOf(i));
  const batch = new Float32Array(3 * 224 * 224);
  const stages = rngs().map((r) => floatStage(float!, r));
  out["saturation + lighting + normalise"] = await cpuMs(pending, (p, i) => {
    const q = { ...p, img: { ...p.img, data: p.img.data.slice() } };
    writeNormalizedChw(q, stages[i], batch, 0);
  });
  out["saturation + lighting + normalise"] -= copy;
  const cfg = {
    spec,
    transform: kdepTrainTransform(),
    seed: 0,
    uint8Layout: "hwc" as const,
    labelDtype: "int32" as const,
    skipBadImages: false,
  };
  // What the loader saves by refilling released buffers: a fresh one, touched once.
  out["batch buffer, fresh (64 images)"] =
    (await cpuMs([0], () => new Float32Array(64 * 3 * 224 * 224).fill(0), 3)) / 64;
  const batches = [Int32Array.from(idx.slice(0, 64)), Int32Array.from(idx.slice(64, 128))];
  let reuse: ArrayBuffer | undefined;
  out["whole sample (file to tensor)"] =
    (await cpuMs(
      batches,
      async (b) => {
        reuse = (await buildBatch(cfg, 0, b, reuse)).images;
      },
      3,
    )) / 64;
  return out;
}
