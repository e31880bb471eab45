// Whole-image inference as semseg's test.py does it: per scale, resize so
// the long side is scale·baseSize, pad to at least the crop with the mean colour (0 after
// normalisation), slide a crop window with stride ceil(crop·2/3) (the last window flush with
// the edge), average each window's softmax with that of its horizontal flip, average
// overlapping windows, cut the padding, resize back to the image, sum over scales; argmax.
import { roundHalfEven } from "../../data/transforms/geometry.js";
import type { PSPNet } from "../../models/pspnet.js";
import { F } from "../../nn/index.js";
import { cat, noGrad, type Tensor, tidy, zeros } from "../../tensor/index.js";

export interface SlidingOptions {
  /** Window [height, width] (512×512). */
  crop: [number, number];
  /** Long side of the image at scale 1 (VOC/ADE 512, Cityscapes 2048); 0 keeps the size. */
  baseSize: number;
  scales?: number[];
  flip?: boolean;
  strideRate?: number;
}

/** Resize so the long side is `long`, rounding as semseg does (Python's round: half to even). */
export function scaledSize(h: number, w: number, long: number): [number, number] {
  if (h > w) return [long, roundHalfEven((long / h) * w)];
  return [roundHalfEven((long / w) * h), long];
}

const bilinear = (t: Tensor, size: [number, number]) =>
  t.size(2) === size[0] && t.size(3) === size[1]
    ? t.clone()
    : F.interpolate(t, { size, mode: "bilinear", alignCorners: false });

/** Softmax of one window, averaged with its flip: [1, C, h, w]. */
function windowProbs(model: PSPNet, win: Tensor, flip: boolean): Tensor {
  const input = flip ? cat([win, win.flip(3)], 0) : win;
  const p = F.softmax(model.forward(input), 1);
  if (!flip) return p;
  const [a, b] = p.split(1, 0);
  return a.add(b.flip(3)).div(2);
}

/** Probabilities [1, C, h, w] of one scale, at the original image size. */
function scaleProbs(model: PSPNet, img: Tensor, size: [number, number], o: SlidingOptions) {
  const [ch, cw] = o.crop;
  const [h, w] = [img.size(2), img.size(3)];
  const ph = Math.max(ch - h, 0);
  const pw = Math.max(cw - w, 0);
  const [top, left] = [Math.trunc(ph / 2), Math.trunc(pw / 2)];
  const padded = ph || pw ? F.pad(img, [left, pw - left, top, ph - top]) : img;
  const [H, W] = [padded.size(2), padded.size(3)];
  const rate = o.strideRate ?? 2 / 3;
  const [sh, sw] = [Math.ceil(ch * rate), Math.ceil(cw * rate)];
  const gh = Math.ceil((H - ch) / sh) + 1;
  const gw = Math.ceil((W - cw) / sw) + 1;
  const acc = zeros([1, model.numClasses, H, W], { device: img.device });
  const count = zeros([1, 1, H, W], { device: img.device });
  for (let i = 0; i < gh; i++) {
    for (let j = 0; j < gw; j++) {
      tidy(() => {
        const y1 = Math.min(i * sh + ch, H);
        const x1 = Math.min(j * sw + cw, W);
        const [y0, x0] = [y1 - ch, x1 - cw];
        const win = padded.narrow(2, y0, ch).narrow(3, x0, cw).contiguous();
        acc
          .narrow(2, y0, ch)
          .narrow(3, x0, cw)
          .add_(windowProbs(model, win, o.flip ?? true));
        count.narrow(2, y0, ch).narrow(3, x0, cw).add_(1);
      });
    }
  }
  const avg = acc.div(count);
  const cut = avg.narrow(2, top, h).narrow(3, left, w);
  return bilinear(cut, size);
}

/**
 * Class probabilities [1, C, H, W] of a normalised image [1, 3, H, W], summed over scales and
 * divided by their number. The model is put in eval mode.
 */
export function slidingProbs(model: PSPNet, image: Tensor, o: SlidingOptions): Tensor {
  if (image.ndim !== 4 || image.size(0) !== 1)
    throw new Error(`slidingProbs expects one image [1, 3, H, W] but received [${image.shape}]`);
  model.eval();
  return noGrad(() =>
    tidy(() => {
      const size: [number, number] = [image.size(2), image.size(3)];
      const scales = o.scales ?? [1];
      let sum: Tensor | null = null;
      for (const s of scales) {
        const long = roundHalfEven(s * (o.baseSize > 0 ? o.baseSize : Math.max(...size)));
        const img = bilinear(image, scaledSize(size[0], size[1], long));
        const p = scaleProbs(model, img, size, o);
        sum = sum ? sum.add(p) : p;
      }
      return (sum as Tensor).div(scales.length);
    }),
  );
}

/** Predicted classes [H, W] (int64) of one normalised image. */
export function slidingPredict(model: PSPNet, image: Tensor, o: SlidingOptions): Tensor {
  return tidy(() => slidingProbs(model, image, o).argmax(1).squeeze(0));
}
