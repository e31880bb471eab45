// Builds one batch: decode → augment → write into one contiguous buffer. Runs inside a
// loader worker (or on the main thread when numWorkers is 0). The buffers it returns are
// plain ArrayBuffers, transferred (not copied) back to the main thread; the engine wraps
// them as a tensor with one memcpy.
import { type DatasetSpec, loadImage, whereOf } from "./datasets/dataset.js";
import { type DecodedImage, ImageDecodeError } from "./image.js";
import { Rng, STREAM_SAMPLE } from "./rng.js";
import { materialize, writeNormalizedChw } from "./transforms/fused.js";
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

export async function buildBatch(
  cfg: BatchConfig,
  epoch: number,
  indices: Int32Array,
): Promise<RawBatch> {
  const { pixel, float } = splitPipeline(cfg.transform);
  const n = indices.length;
  const used = Int32Array.from(indices);
  const skipped: SkippedSample[] = [];
  let images: Float32Array | Uint8Array | null = null;
  let shape: number[] = [];
  let sampleSize = 0;

  // Decode one sample ahead: sharp decodes on a libuv thread while this thread
  // augments the previous image.
  let pending = loadWithRedraw(cfg, epoch, indices[0], skipped);
  for (let k = 0; k < n; k++) {
    const { index, img } = await pending;
    if (k + 1 < n) {
      pending = loadWithRedraw(cfg, epoch, indices[k + 1], skipped);
      // If this sample fails below, the look-ahead's own failure must not go unhandled.
      pending.catch(() => {});
    }
    used[k] = index;
    const rng = new Rng(cfg.seed, epoch, index, STREAM_SAMPLE);
    const out = applyPixelSteps(img, pixel, rng);
    const { width: w, height: h, channels: c } = out.img;
    if (images === null) {
      sampleSize = w * h * c;
      shape = float || cfg.uint8Layout === "chw" ? [n, c, h, w] : [n, h, w, c];
      images = float ? new Float32Array(n * sampleSize) : new Uint8Array(n * sampleSize);
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
  const labels =
    cfg.labelDtype === "int64"
      ? BigInt64Array.from(used, (i) => BigInt(cfg.spec.labels[i]))
      : Int32Array.from(used, (i) => cfg.spec.labels[i]);
  return {
    images: images!.buffer as ArrayBuffer,
    imagesDtype: float ? "float32" : "uint8",
    shape,
    labels: labels.buffer as ArrayBuffer,
    indices: used,
    skipped,
  };
}

/**
 * Loads sample `index`; with skipBadImages, an undecodable image is replaced by another
 * index drawn from a generator keyed by (seed, epoch, index) — so the replacement, and
 * therefore the batch, is the same whatever the number of workers.
 */
async function loadWithRedraw(
  cfg: BatchConfig,
  epoch: number,
  index: number,
  skipped: SkippedSample[],
): Promise<{ index: number; img: DecodedImage }> {
  let cur = index;
  let redraw: Rng | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      return { index: cur, img: await loadImage(cfg.spec, cur) };
    } catch (err) {
      if (!(err instanceof ImageDecodeError) || !cfg.skipBadImages || attempt >= MAX_REDRAWS)
        throw err;
      skipped.push({ index: cur, where: whereOf(cfg.spec, cur), error: err.message });
      redraw ??= new Rng(cfg.seed, epoch, index, STREAM_REDRAW);
      cur = redraw.randint(0, cfg.spec.labels.length);
    }
  }
}
