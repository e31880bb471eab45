// The segmentation datasets of `kdep transfer seg`: train and val splits with class names.
import type { Dataset } from "../../data/datasets/dataset.js";
import { segFolder } from "../../data/datasets/segFolder.js";
import { ade20k, cityscapes, voc2012Seg } from "../../data/datasets/segmentation.js";
import type { SegDatasetName } from "./segConfig.js";

export interface SegData {
  train: Dataset;
  val: Dataset;
  classes: string[];
}

export async function segData(
  kind: SegDatasetName,
  root: string,
  o: { trainList?: string } = {},
): Promise<SegData> {
  let train: Dataset;
  let val: Dataset;
  switch (kind) {
    case "voc":
      [train, val] = [await voc2012Seg(root, "train", o.trainList), await voc2012Seg(root, "val")];
      break;
    case "cityscapes":
      [train, val] = [await cityscapes(root, "train"), await cityscapes(root, "val")];
      break;
    case "ade20k":
      [train, val] = [await ade20k(root, "train"), await ade20k(root, "val")];
      break;
    case "folder":
      [train, val] = [await segFolder(root, "train"), await segFolder(root, "val")];
      break;
  }
  return { train, val, classes: train.classes };
}
