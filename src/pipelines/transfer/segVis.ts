// Pictures of predictions: image | truth | prediction side by side, labels coloured with the
// PASCAL VOC palette (the bit-interleaved colour map every segmentation tool uses), ignore
// pixels in VOC's cream (224, 224, 192).
import sharp from "sharp";
import type { Tensor } from "../../tensor/index.js";

export function vocPalette(n = 256): Uint8Array {
  const p = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let c = i;
    let [r, g, b] = [0, 0, 0];
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    p.set([r, g, b], i * 3);
  }
  p.set([224, 224, 192], 255 * 3);
  return p;
}

const PALETTE = vocPalette();

/** Normalised [1, 3, H, W] image back to interleaved uint8 RGB. */
function toRgb(image: Tensor, mean: number[], std: number[]): Uint8Array {
  const [, , h, w] = image.shape;
  const x = image.to({ dtype: "float32", device: "cpu" });
  const d = x.toTypedArray() as Float32Array;
  x.dispose();
  const out = new Uint8Array(h * w * 3);
  for (let k = 0; k < 3; k++)
    for (let i = 0; i < h * w; i++) {
      const v = (d[k * h * w + i] * std[k] + mean[k]) * 255;
      out[i * 3 + k] = Math.max(0, Math.min(255, Math.round(v)));
    }
  return out;
}

function colour(
  labels: ArrayLike<number | bigint>,
  out: Uint8Array,
  offset: number,
  stride: number,
  w: number,
): void {
  for (let i = 0; i < labels.length; i++) {
    const c = Number(labels[i]) & 255;
    const o = offset + (Math.floor(i / w) * stride + (i % w)) * 3;
    out[o] = PALETTE[c * 3];
    out[o + 1] = PALETTE[c * 3 + 1];
    out[o + 2] = PALETTE[c * 3 + 2];
  }
}

/** image | truth | prediction as the bytes of one PNG (truth and prediction [H, W] integers). */
export async function triptychPng(
  image: Tensor,
  truth: Tensor,
  pred: Tensor,
  mean: number[],
  std: number[],
): Promise<Buffer> {
  const [, , h, w] = image.shape;
  const W = 3 * w;
  const out = new Uint8Array(h * W * 3);
  const rgb = toRgb(image, mean, std);
  for (let y = 0; y < h; y++) out.set(rgb.subarray(y * w * 3, (y + 1) * w * 3), y * W * 3);
  const t = truth.to({ dtype: "int32", device: "cpu" });
  const p = pred.to({ dtype: "int32", device: "cpu" });
  colour(t.toTypedArray() as Int32Array, out, w * 3, W, w);
  colour(p.toTypedArray() as Int32Array, out, 2 * w * 3, W, w);
  t.dispose();
  p.dispose();
  return sharp(Buffer.from(out), { raw: { width: W, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

/** A predicted label map [H, W] as the bytes of a one-channel PNG of class indices (what masks hold). */
export async function labelPng(pred: Tensor): Promise<Buffer> {
  const [h, w] = pred.shape;
  const p = pred.to({ dtype: "uint8", device: "cpu" });
  const png = await sharp(Buffer.from(p.toTypedArray() as Uint8Array), {
    raw: { width: w, height: h, channels: 1 },
  })
    .toColourspace("b-w")
    .png()
    .toBuffer();
  p.dispose();
  return png;
}
