// Builds one batch: decode → augment → write into one contiguous buffer. Runs inside a
// loader worker (or on the main thread when numWorkers is 0), synchronously apart from
// file reads: a worker is one thread's worth of CPU, like one torch DataLoader worker.
// The buffers it returns are plain ArrayBuffers, transferred (not copied) back to the
// main thread; the engine wraps them as a tensor with one memcpy.
import { type DatasetSpec, openSample, whereOf } from "./datasets/dataset.js";
import { ImageDecodeError, type ImageSource } from "./image.js";
import { Rng, STREAM_SAMPLE } from "./rng.js";
import { type LazyPixels, materialize, writeNormalizedChw } from "./transforms/fused.js";
import {
  applyPixelSteps,
  floatStage,
  splitPipeline,
  type TransformStep,
} from "./transforms/pipeline.js";
import { toUint8 } from "./transforms/tensor.js";

export interface BatchConfig {
  spec: DatasetSpec;
  transform: TransformStep[];
  seed: number;
  /** Layout of uint8 output (pipelines without toTensor). */
  uint8Layout: "hwc" | "chw";
  labelDtype: "int32" | "int64";
  skipBadImages: boolean;
}

export interface SkippedSample {
  index: number;
  where: string;
  error: string;
}

/** What a worker sends back; the buffers are transferred. */
export interface RawBatch {
  images: ArrayBuffer;
  imagesDtype: "float32" | "uint8";
  shape: number[];
  labels: ArrayBuffer;
  /** Segmentation: int64 label masks [N, H, W] (255 = ignore), see segBatch.ts. */
  masks?: ArrayBuffer;
  indices: Int32Array;
  skipped: SkippedSample[];
}

/** How many replacement draws before a bad image fails the batch anyway. */
export const MAX_REDRAWS = 10;
export const STREAM_REDRAW = 7;

/**
 * Builds the batch of `indices`. `reuse`, a released batch's image buffer, is written
 * over when its size fits (every element is written, so it needs no clearing): a fresh
 * 38 MB buffer costs ~0.6 ms per image in page faults alone.
 */
export async function buildBatch(
  cfg: BatchConfig,
  epoch: number,
  indices: Int32Array,
  reuse?: ArrayBuffer,
): Promise<RawBatch> {
  const { pixel, float } = splitPipeline(cfg.transform);
  const n = indices.length;
  const used = Int32Array.from(indices);
  const skipped: SkippedSample[] = [];
  let images: Float32Array | Uint8Array | null = null;
  let shape: number[] = [];
  let sampleSize = 0;

  // Read one file ahead, so its I/O overlaps this sample's decode and augmentation.
  let next: Promise<ImageSource> | null = openSample(cfg.spec, indices[0]);
  for (let k = 0; k < n; k++) {
    const opening = next!;
    next = k + 1 < n ? openSample(cfg.spec, indices[k + 1]) : null;
    // If this sample fails below, the look-ahead's own failure must not go unhandled.
    next?.catch(() => {});
    const {
      index,
      value: { out, rng },
    } = await augmentWithRedraw(cfg, epoch, indices[k], opening, pixel, skipped);
    used[k] = index;
    const { width: w, height: h, channels: c } = out.img;
    if (images === null) {
      sampleSize = w * h * c;
      shape = float || cfg.uint8Layout === "chw" ? [n, c, h, w] : [n, h, w, c];
      const bytes = n * sampleSize * (float ? 4 : 1);
      const buf = reuse?.byteLength === bytes ? reuse : new ArrayBuffer(bytes);
      images = float ? new Float32Array(buf) : new Uint8Array(buf);
    } else if (
      w * h * c !== sampleSize ||
      (float || cfg.uint8Layout === "chw" ? shape[1] : shape[3]) !== c
    ) {
      throw new Error(
        `${whereOf(cfg.spec, index)}: transformed to ${w}x${h}x${c}, but the batch holds ` +
          `${shape.join("x")}; add a crop so all samples have one size`,
      );
    }
    if (float)
      writeNormalizedChw(out, floatStage(float, rng), images as Float32Array, k * sampleSize);
    else toUint8(materialize(out), cfg.uint8Layout, images as Uint8Array, k * sampleSize);
  }
  return {
    images: images!.buffer as ArrayBuffer,
    imagesDtype: float ? "float32" : "uint8",
    shape,
    labels: labelsOf(cfg, used),
    indices: used,
    skipped,
  };
}

/**
 * Decodes and augments sample `index` (the pixel steps; its Rng continues into the float
 * stage); `opening` is its file, already being read.
 */
function augmentWithRedraw(
  cfg: BatchConfig,
  epoch: number,
  index: number,
  opening: Promise<ImageSource>,
  pixel: TransformStep[],
  skipped: SkippedSample[],
): Promise<{ index: number; value: { out: LazyPixels; rng: Rng } }> {
  return withRedraw(
    cfg,
    epoch,
    index,
    skipped,
    async (i, attempt) => {
      const src = await (attempt === 0 ? opening : openSample(cfg.spec, i));
      const rng = new Rng(cfg.seed, epoch, i, STREAM_SAMPLE);
      return { out: applyPixelSteps(src, pixel, rng), rng };
    },
    (i) => whereOf(cfg.spec, i),
  );
}

/**
 * Runs `load(index)`. With skipBadImages, a sample that cannot be decoded (an
 * ImageDecodeError, when opening the file or decoding its crop) is recorded in `skipped`
 * and replaced by another index drawn from a generator keyed by (seed, epoch, index), so
 * the replacement, and therefore the batch, is the same whatever the number of workers.
 */
export async function withRedraw<T>(
  cfg: Pick<BatchConfig, "seed" | "skipBadImages" | "spec">,
  epoch: number,
  index: number,
  skipped: SkippedSample[],
  load: (i: number, attempt: number) => Promise<T>,
  where: (i: number, err: ImageDecodeError) => string,
): Promise<{ index: number; value: T }> {
  let cur = index;
  let redraw: Rng | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      return { index: cur, value: await load(cur, attempt) };
    } catch (err) {
      if (!(err instanceof ImageDecodeError) || !cfg.skipBadImages || attempt >= MAX_REDRAWS)
        throw err;
      skipped.push({ index: cur, where: where(cur, err), error: err.message });
      redraw ??= new Rng(cfg.seed, epoch, index, STREAM_REDRAW);
      cur = redraw.randint(0, cfg.spec.labels.length);
    }
  }
}

/** The labels of the samples a batch holds, in the dtype the config asks for. */
export function labelsOf(
  cfg: Pick<BatchConfig, "labelDtype" | "spec">,
  used: Int32Array,
): ArrayBuffer {
  const labels =
    cfg.labelDtype === "int64"
      ? BigInt64Array.from(used, (i) => BigInt(cfg.spec.labels[i]))
      : Int32Array.from(used, (i) => cfg.spec.labels[i]);
  return labels.buffer as ArrayBuffer;
}
