// torchvision's AnchorGenerator: per feature level, base anchors of every size × aspect
// ratio centred on 0 (rounded), shifted to each cell of the level's grid; the stride is
// the padded batch size divided by the grid size (integer division).
import { arange, cat, fromArray, keep, stack, type Tensor } from "../../tensor/index.js";

export class AnchorGenerator {
  readonly #base: Tensor[];

  constructor(
    readonly sizes: readonly (readonly number[])[],
    readonly aspectRatios: readonly (readonly number[])[],
  ) {
    if (sizes.length !== aspectRatios.length) {
      throw new Error(
        `AnchorGenerator: ${sizes.length} size groups but ${aspectRatios.length} aspect-ratio groups`,
      );
    }
    this.#base = sizes.map((s, i) => baseAnchors(s, aspectRatios[i]));
  }

  /** Anchors per location, per level. */
  numAnchorsPerLocation(): number[] {
    return this.sizes.map((s, i) => s.length * this.aspectRatios[i].length);
  }

  /** Anchors [sum over levels of H·W·A, 4] for a padded batch of size `imageSize` [h, w]. */
  anchors(imageSize: readonly [number, number], gridSizes: readonly [number, number][]): Tensor {
    if (gridSizes.length !== this.#base.length) {
      throw new Error(
        `AnchorGenerator: ${gridSizes.length} feature maps but anchors for ${this.#base.length}`,
      );
    }
    const levels = gridSizes.map(([gh, gw], i) => {
      const sh = Math.floor(imageSize[0] / gh);
      const sw = Math.floor(imageSize[1] / gw);
      const sx = arange(0, gw).mul(sw);
      const sy = arange(0, gh).mul(sh);
      const x = sx.unsqueeze(0).expand(gh, gw).reshape(-1);
      const y = sy.unsqueeze(1).expand(gh, gw).reshape(-1);
      const shifts = stack([x, y, x, y], 1);
      return shifts
        .view(-1, 1, 4)
        .add(this.#base[i].view(1, -1, 4))
        .reshape(-1, 4);
    });
    return cat(levels, 0);
  }
}

function baseAnchors(scales: readonly number[], ratios: readonly number[]): Tensor {
  const s = fromArray(scales, [scales.length], { dtype: "float32" });
  const hr = fromArray(ratios, [ratios.length], { dtype: "float32" }).sqrt();
  const wr = hr.reciprocal();
  const ws = wr.unsqueeze(1).mul(s.unsqueeze(0)).view(-1);
  const hs = hr.unsqueeze(1).mul(s.unsqueeze(0)).view(-1);
  return keep(stack([ws.neg(), hs.neg(), ws, hs], 1).div(2).round());
}
