// torchvision's GeneralizedRCNNTransform: normalise each image, resize it so its short
// side is minSize (a random choice of minSizes in training) without the long side passing
// maxSize, batch into one zero-padded tensor whose sides are multiples of sizeDivisible;
// boxes scale with their image, and detections scale back to the original size.
import { interpolate, pad } from "../../nn/functional.js";
import { empty, fromArray, manualSeed, stack, type Tensor } from "../../tensor/index.js";
import { uniform_ } from "./tensorOps.js";

export interface TransformOptions {
  minSize: number | readonly number[];
  maxSize: number;
  mean: readonly number[];
  std: readonly number[];
  sizeDivisible?: number;
}

export interface ImageList {
  /** [N, 3, H, W], zero-padded. */
  tensors: Tensor;
  /** Each image's size after resizing, [h, w]. */
  imageSizes: [number, number][];
}

/** Scales boxes [N, 4] from size `from` to size `to` ([h, w]), in float32 as torchvision. */
export function resizeBoxes(
  boxes: Tensor,
  from: readonly [number, number],
  to: readonly [number, number],
): Tensor {
  const rh = Math.fround(to[0] / from[0]);
  const rw = Math.fround(to[1] / from[1]);
  const r = fromArray([rw, rh, rw, rh], [1, 4], { dtype: boxes.dtype });
  return boxes.mul(r);
}

export class RcnnTransform {
  training = true;
  minSizes: readonly number[];
  /** Per image, a seed set before its size draw in training (see BalancedSampler). */
  imageSeeds: readonly number[] | null = null;
  readonly #mean: Tensor;
  readonly #std: Tensor;

  constructor(readonly o: TransformOptions) {
    this.minSizes = typeof o.minSize === "number" ? [o.minSize] : o.minSize;
    this.#mean = fromArray(o.mean, [3, 1, 1], { dtype: "float32" });
    this.#std = fromArray(o.std, [3, 1, 1], { dtype: "float32" });
  }

  /** Short-side sizes: drawn per image in training, the last one in evaluation. */
  setMinSize(minSize: number | readonly number[]): void {
    this.minSizes = typeof minSize === "number" ? [minSize] : minSize;
  }

  /** Images [3, h, w] in [0, 1] and their boxes → a batch and boxes in batch pixels. */
  forward(
    images: readonly Tensor[],
    boxes?: readonly Tensor[],
  ): { list: ImageList; boxes?: Tensor[] } {
    const resized: Tensor[] = [];
    const sizes: [number, number][] = [];
    const outBoxes: Tensor[] = [];
    images.forEach((img, i) => {
      if (img.ndim !== 3 || img.size(0) !== 3) {
        throw new Error(`Detection input ${i}: expected an image [3, H, W], got [${img.shape}]`);
      }
      if (this.training && this.imageSeeds) manualSeed(this.imageSeeds[i]);
      const norm = img.sub(this.#mean).div(this.#std);
      const y = this.#resize(norm);
      const size: [number, number] = [y.size(1), y.size(2)];
      resized.push(y);
      sizes.push(size);
      if (boxes) outBoxes.push(resizeBoxes(boxes[i], [img.size(1), img.size(2)], size));
    });
    return {
      list: { tensors: this.#batch(resized), imageSizes: sizes },
      boxes: boxes ? outBoxes : undefined,
    };
  }

  #resize(img: Tensor): Tensor {
    let size: number;
    if (this.training) {
      // torch_choice: one uniform draw even with a single size (keeps the RNG in step).
      const u = uniform_(empty([1]), 0, this.minSizes.length).item();
      size = this.minSizes[Math.floor(u)];
    } else {
      size = this.minSizes[this.minSizes.length - 1];
    }
    const h = img.size(1);
    const w = img.size(2);
    // float32 as torchvision: `size / tensor` is tensor.reciprocal() * size there.
    const f = Math.fround;
    const scale = Math.min(
      f(f(1 / Math.min(h, w)) * size),
      f(f(1 / Math.max(h, w)) * this.o.maxSize),
    );
    const out: [number, number] = [Math.floor(h * scale), Math.floor(w * scale)];
    return interpolate(img.unsqueeze(0), {
      size: out,
      mode: "bilinear",
      alignCorners: false,
    }).squeeze(0);
  }

  #batch(images: Tensor[]): Tensor {
    const d = this.o.sizeDivisible ?? 32;
    const maxH = Math.ceil(Math.max(...images.map((t) => t.size(1))) / d) * d;
    const maxW = Math.ceil(Math.max(...images.map((t) => t.size(2))) / d) * d;
    return stack(images.map((t) => pad(t, [0, maxW - t.size(2), 0, maxH - t.size(1)])));
  }

  /** Detection boxes from resized-image pixels back to the original image's. */
  postprocess(
    boxes: Tensor,
    resized: readonly [number, number],
    original: readonly [number, number],
  ): Tensor {
    return resizeBoxes(boxes, resized, original);
  }
}
