// Box arithmetic of torchvision's detection (ops/boxes.py, models/detection/_utils.py):
// boxes are [N, 4] float tensors as x1, y1, x2, y2 in pixels. The order of the float
// operations follows torchvision's, so results agree to the last bit where it matters.

import {
  cat,
  index,
  logicalAnd,
  maximum,
  minimum,
  nonzero,
  select,
  sort,
  stack,
  type Tensor,
  zeros,
} from "../../tensor/index.js";
import { nms } from "../../tensor/ops/visionOps.js";

/** Column `i` of a [N, 4] box tensor as [N]. */
export const col = (boxes: Tensor, i: number): Tensor => select(boxes, 1, i);

/** Indices where a boolean [N] tensor is true (torch.where(mask)[0]). */
export const whereIdx = (mask: Tensor): Tensor => select(nonzero(mask), 1, 0);

export function boxArea(boxes: Tensor): Tensor {
  return col(boxes, 2)
    .sub(col(boxes, 0))
    .mul(col(boxes, 3).sub(col(boxes, 1)));
}

/** Pairwise IoU, [N, M]. */
export function boxIou(a: Tensor, b: Tensor): Tensor {
  const area1 = boxArea(a);
  const area2 = boxArea(b);
  const a3 = a.unsqueeze(1);
  const lt = maximum(index(a3, null, null, [0, 2]), index(b, null, [0, 2]));
  const rb = minimum(index(a3, null, null, [2, 4]), index(b, null, [2, 4]));
  const wh = rb.sub(lt).clamp(0);
  const inter = select(wh, 2, 0).mul(select(wh, 2, 1));
  const union = area1.unsqueeze(1).add(area2).sub(inter);
  return inter.div(union);
}

/** Clamps x to [0, width] and y to [0, height]; works on [..., 4]. */
export function clipBoxesToImage(boxes: Tensor, size: readonly [number, number]): Tensor {
  const [h, w] = size;
  const d = boxes.ndim - 1;
  const c = (i: number, hi: number): Tensor => select(boxes, d, i).clamp(0, hi);
  return stack([c(0, w), c(1, h), c(2, w), c(3, h)], d);
}

/** Indices of boxes whose sides are both ≥ minSize. */
export function removeSmallBoxes(boxes: Tensor, minSize: number): Tensor {
  const ws = col(boxes, 2).sub(col(boxes, 0));
  const hs = col(boxes, 3).sub(col(boxes, 1));
  return whereIdx(logicalAnd(ws.ge(minSize), hs.ge(minSize)));
}

/**
 * NMS within each category `idxs`, as torchvision's batched_nms: on CPU above 4000 box
 * coordinates one NMS per category, merged by decreasing score; otherwise a single NMS
 * with each category's boxes offset so that categories never overlap.
 */
export function batchedNms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou: number): Tensor {
  if (boxes.numel === 0) return zeros([0], { dtype: "int64" });
  if (boxes.numel > 4000) return batchedNmsVanilla(boxes, scores, idxs, iou);
  const maxCoord = boxes.max();
  const offsets = idxs.to({ dtype: boxes.dtype }).mul(maxCoord.add(1));
  return nms(boxes.add(offsets.unsqueeze(1)), scores, iou);
}

function batchedNmsVanilla(boxes: Tensor, scores: Tensor, idxs: Tensor, iou: number): Tensor {
  const ids = [...new Set(idxs.toArray())].sort((a, b) => a - b);
  const kept: Tensor[] = [];
  for (const id of ids) {
    const cur = whereIdx(idxs.eq(id));
    const k = nms(index(boxes, cur), index(scores, cur), iou);
    kept.push(index(cur, k));
  }
  // torchvision marks a mask and reads it back in index order before sorting by score.
  const keepIdx = sort(cat(kept), 0)[0];
  const order = sort(index(scores, keepIdx), -1, true)[1];
  return index(keepIdx, order);
}

/** torchvision's BoxCoder: box deltas (dx, dy, dw, dh) scaled by `weights`. */
export class BoxCoder {
  constructor(
    readonly weights: readonly [number, number, number, number],
    readonly clip = Math.log(1000 / 16),
  ) {}

  /** Deltas taking each proposal to its matched box; both [N, 4] → [N, 4]. */
  encode(matched: Tensor, proposals: Tensor): Tensor {
    const [wx, wy, ww, wh] = this.weights;
    const exW = col(proposals, 2).sub(col(proposals, 0));
    const exH = col(proposals, 3).sub(col(proposals, 1));
    const exX = col(proposals, 0).add(exW.mul(0.5));
    const exY = col(proposals, 1).add(exH.mul(0.5));
    const gtW = col(matched, 2).sub(col(matched, 0));
    const gtH = col(matched, 3).sub(col(matched, 1));
    const gtX = col(matched, 0).add(gtW.mul(0.5));
    const gtY = col(matched, 1).add(gtH.mul(0.5));
    const dx = gtX.sub(exX).mul(wx).div(exW);
    const dy = gtY.sub(exY).mul(wy).div(exH);
    const dw = gtW.div(exW).log().mul(ww);
    const dh = gtH.div(exH).log().mul(wh);
    return stack([dx, dy, dw, dh], 1);
  }

  /** Applies deltas [N, 4k] to boxes [N, 4] → [N, k, 4]. */
  decode(deltas: Tensor, boxes: Tensor): Tensor {
    const [wx, wy, ww, wh] = this.weights;
    const n = boxes.size(0);
    const d = deltas.reshape(n, -1, 4);
    const widths = col(boxes, 2).sub(col(boxes, 0)).unsqueeze(1);
    const heights = col(boxes, 3).sub(col(boxes, 1)).unsqueeze(1);
    const ctrX = col(boxes, 0).add(widths.squeeze(1).mul(0.5)).unsqueeze(1);
    const ctrY = col(boxes, 1).add(heights.squeeze(1).mul(0.5)).unsqueeze(1);
    const dx = select(d, 2, 0).div(wx);
    const dy = select(d, 2, 1).div(wy);
    const dw = select(d, 2, 2).div(ww).clamp(null, this.clip);
    const dh = select(d, 2, 3).div(wh).clamp(null, this.clip);
    const px = dx.mul(widths).add(ctrX);
    const py = dy.mul(heights).add(ctrY);
    const halfW = dw.exp().mul(widths).mul(0.5);
    const halfH = dh.exp().mul(heights).mul(0.5);
    return stack([px.sub(halfW), py.sub(halfH), px.add(halfW), py.add(halfH)], 2);
  }
}
