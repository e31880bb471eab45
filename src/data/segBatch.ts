// Builds one segmentation batch: decode image + label mask → joint augmentation → images
// (float32 NCHW normalised, or uint8) and masks (int64 [N, H, W], 255 = ignore, what
// cross_entropy(ignore_index=255) takes) in contiguous buffers that a worker transfers
// back. The classification path (batch.ts) is untouched; `buildAnyBatch` picks one.
import {
  type BatchConfig,
  buildBatch,
  labelsOf,
  type RawBatch,
  type SkippedSample,
  withRedraw,
} from "./batch.js";
import { type DatasetSpec, loadImage, loadMask, whereOf } from "./datasets/dataset.js";
import { ImageDecodeError } from "./image.js";
import { Rng, STREAM_SAMPLE } from "./rng.js";
import { lazy, writeNormalizedChw } from "./transforms/fused.js";
import { floatStage } from "./transforms/pipeline.js";
import {
  applySegSteps,
  isSegTransform,
  type SegPair,
  type SegTransform,
  splitSegTransform,
} from "./transforms/segmentation.js";
import { toUint8 } from "./transforms/tensor.js";

export interface SegBatchConfig extends Omit<BatchConfig, "transform"> {
  transform: SegTransform;
}

/** What the loader posts to its workers: a classification or a segmentation batch job. */
export type AnyBatchConfig = BatchConfig | SegBatchConfig;

export function isSegConfig(cfg: AnyBatchConfig): cfg is SegBatchConfig {
  return isSegTransform(cfg.transform);
}

export function buildAnyBatch(
  cfg: AnyBatchConfig,
  epoch: number,
  indices: Int32Array,
  reuse?: ArrayBuffer,
): Promise<RawBatch> {
  // `reuse` is a released image buffer; segmentation batches allocate their own.
  return isSegConfig(cfg)
    ? buildSegBatch(cfg, epoch, indices)
    : buildBatch(cfg, epoch, indices, reuse);
}

/** A missing, corrupt or mis-sized label mask; `file` is the mask. */
export class MaskError extends ImageDecodeError {
  constructor(file: string, message: string, cause?: unknown) {
    super(file, cause ?? message);
    this.name = "MaskError";
    this.message = message;
  }
}

// int64 is written as its low byte (labels are 0..255, never negative) into a zeroed
// buffer: 8× less work than a BigInt per pixel. Which byte is low depends on endianness.
const LOW_BYTE = new Uint8Array(new BigInt64Array([1n]).buffer)[0] === 1 ? 0 : 7;

export async function buildSegBatch(
  cfg: SegBatchConfig,
  epoch: number,
  indices: Int32Array,
): Promise<RawBatch> {
  const { pixel, float } = splitSegTransform(cfg.transform);
  const n = indices.length;
  const used = Int32Array.from(indices);
  const skipped: SkippedSample[] = [];
  let images: Float32Array | Uint8Array | null = null;
  let masks: Uint8Array | null = null; // byte view of the int64 buffer
  let shape: number[] = [];
  let first: { w: number; h: number; c: number } | null = null;
  let plane = 0;

  // Decode one sample ahead, as batch.ts does.
  const loadAt = (i: number) =>
    withRedraw(
      cfg,
      epoch,
      i,
      skipped,
      (j) => loadPair(cfg.spec, j),
      (_, err) => err.file,
    );
  let pending = loadAt(indices[0]);
  for (let k = 0; k < n; k++) {
    const { index, value: pair } = await pending;
    if (k + 1 < n) {
      pending = loadAt(indices[k + 1]);
      pending.catch(() => {});
    }
    used[k] = index;
    const rng = new Rng(cfg.seed, epoch, index, STREAM_SAMPLE);
    const { image, mask } = applySegSteps(pair, pixel, rng);
    const { width: w, height: h, channels: c } = image;
    if (first === null) {
      first = { w, h, c };
      plane = w * h;
      shape = float || cfg.uint8Layout === "chw" ? [n, c, h, w] : [n, h, w, c];
      images = float ? new Float32Array(n * c * plane) : new Uint8Array(n * c * plane);
      masks = new Uint8Array(n * plane * 8);
    } else if (w !== first.w || h !== first.h || c !== first.c) {
      throw new Error(
        `${whereOf(cfg.spec, index)}: transformed to ${w}x${h}, but the batch holds ` +
          `${shape.join("x")}; add a crop so all samples have one size`,
      );
    }
    if (images instanceof Float32Array)
      writeNormalizedChw(lazy(image), floatStage(float ?? [], rng), images, k * c * plane);
    else toUint8(image, cfg.uint8Layout, images!, k * c * plane);
    const md = mask.data;
    const mb = masks!;
    for (let i = 0, o = k * plane * 8 + LOW_BYTE; i < plane; i++, o += 8) mb[o] = md[i];
  }
  return {
    images: images!.buffer as ArrayBuffer,
    imagesDtype: float ? "float32" : "uint8",
    shape,
    labels: labelsOf(cfg, used),
    masks: masks!.buffer as ArrayBuffer,
    indices: used,
    skipped,
  };
}

/** Decodes image and mask of sample i and checks they belong together. */
export async function loadPair(spec: DatasetSpec, i: number): Promise<SegPair> {
  if (!spec.masks) {
    throw new Error(`${spec.name} has no label masks; a segmentation transform needs them`);
  }
  const file = spec.masks[i];
  const [image, mask] = await Promise.all([
    loadImage(spec, i),
    loadMask(spec, i).catch((err: Error) => {
      throw new MaskError(file, err.message, err);
    }),
  ]);
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new MaskError(
      file,
      `Label mask ${file} is ${mask.width}x${mask.height}, but its image ` +
        `${whereOf(spec, i)} is ${image.width}x${image.height}`,
    );
  }
  return { image, mask };
}
