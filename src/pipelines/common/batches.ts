// Loader batches (typed arrays from worker threads) to engine tensors: one copy each.
import type { Batch } from "../../data/loader.js";
import { fromArray, type Tensor } from "../../tensor/index.js";

export interface TensorBatch {
  images: Tensor;
  labels: Tensor;
  /** Segmentation: int64 [N, H, W] label masks, 255 = ignore. */
  masks?: Tensor;
  size: number;
}

/**
 * float32 NCHW images (the loader normalised them), int64 labels and masks. The images
 * are copied, so the batch's buffer goes back to the loader for reuse (b.images is not to
 * be read afterwards).
 */
export function toTensors(b: Batch, device = "cpu"): TensorBatch {
  if (!(b.images instanceof Float32Array)) {
    throw new Error("Expected normalised float32 batches: add a toTensor step to the transform");
  }
  const images = fromArray(b.images, b.shape, { device });
  const labels =
    b.labels instanceof BigInt64Array
      ? fromArray(b.labels, [b.labels.length], { device })
      : fromArray(b.labels, [b.labels.length], { dtype: "int64", device });
  const [n, , h, w] = b.shape;
  const masks = b.masks ? fromArray(b.masks, [n, h, w], { device }) : undefined;
  b.release();
  return { images, labels, masks, size: n };
}
