// Images and targets as the detector takes them: float [3, h, w] in [0, 1], boxes in
// pixels, labels 1-based (0 is the background); horizontal flips for training.

import type { DetRecord } from "../../../data/datasets/detection.js";
import type { DecodedRgb } from "../../../data/detDecode.js";
import { decodeRgb } from "../../../data/image.js";
import type { Targets } from "../../../models/detection/roiHeads.js";
import { fromArray, type Tensor } from "../../../tensor/index.js";

export async function loadImage(r: DetRecord): Promise<Tensor> {
  return imageTensor(r, await decodeRgb(r.file, r.file));
}

/** A decoded image of a record as the detector takes it; its size must be the annotated one. */
export function imageTensor(r: DetRecord, img: DecodedRgb): Tensor {
  if (img.width !== r.width || img.height !== r.height) {
    throw new Error(
      `${r.file}: the image is ${img.width}×${img.height} but its annotation says ${r.width}×${r.height}`,
    );
  }
  return fromArray(img.data, [img.height, img.width, 3], { dtype: "uint8" })
    .permute(2, 0, 1)
    .to({ dtype: "float32" })
    .div(255);
}

/** Targets of a record (crowd regions left out), flipped left-right when `flip`. */
export function targetsOf(r: DetRecord, flip: boolean): Targets {
  const objs = r.objects.filter((o) => !o.iscrowd);
  const boxes = objs.flatMap((o) =>
    flip ? [r.width - o.box[2], o.box[1], r.width - o.box[0], o.box[3]] : o.box,
  );
  return {
    boxes: fromArray(boxes, [objs.length, 4], { dtype: "float32" }),
    labels: fromArray(
      objs.map((o) => o.label + 1),
      [objs.length],
      { dtype: "int64" },
    ),
  };
}
