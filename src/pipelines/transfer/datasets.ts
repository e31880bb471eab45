// The transfer datasets of docs/method.md#classification-transfer with their train/test splits and
// normalisation (CIFAR-100 its own statistics; DTD, Caltech-256 and CUB none — as the paper reports
// them).
import { join } from "node:path";
import { caltech256 } from "../../data/datasets/caltech256.js";
import { cifar100 } from "../../data/datasets/cifar100.js";
import { cub200 } from "../../data/datasets/cub200.js";
import type { Dataset } from "../../data/datasets/dataset.js";
import { dtd } from "../../data/datasets/dtd.js";
import { isDir } from "../../data/datasets/files.js";
import { fashionMnist } from "../../data/datasets/idx.js";
import { imageFolder } from "../../data/datasets/imageFolder.js";
import { CIFAR100_MEAN, CIFAR100_STD, type TransformStep } from "../../data/transforms/pipeline.js";
import type { TransferConfig } from "./classifyConfig.js";

export interface TransferData {
  train: Dataset;
  test: Dataset;
  numClasses: number;
  mean: number[];
  std: number[];
}

const NONE = { mean: [0, 0, 0], std: [1, 1, 1] };

export async function transferData(
  kind: TransferConfig["dataset"],
  root: string,
): Promise<TransferData> {
  let train: Dataset;
  let test: Dataset;
  let norm = NONE;
  switch (kind) {
    case "cifar100":
      [train, test] = [await cifar100(root, "train"), await cifar100(root, "test")];
      norm = { mean: CIFAR100_MEAN, std: CIFAR100_STD };
      break;
    case "dtd":
      [train, test] = [await dtd(root, "trainval", 1), await dtd(root, "test", 1)];
      break;
    case "caltech256":
      [train, test] = [await caltech256(root, "train"), await caltech256(root, "test")];
      break;
    case "cub200":
      [train, test] = [await cub200(root, "train"), await cub200(root, "test")];
      break;
    case "fashion-mnist":
      [train, test] = [await fashionMnist(root, "train"), await fashionMnist(root, "test")];
      norm = { mean: [0.286, 0.286, 0.286], std: [0.353, 0.353, 0.353] };
      break;
    case "imagefolder": {
      const hasSplits = (await isDir(join(root, "train"))) && (await isDir(join(root, "test")));
      const testDir = hasSplits ? "test" : "val";
      if (!(await isDir(join(root, "train"))) || !(await isDir(join(root, testDir)))) {
        throw new Error(
          `ImageFolder transfer needs ${root}/train and ${root}/test (or ${root}/val)`,
        );
      }
      train = await imageFolder(join(root, "train"));
      test = await imageFolder(join(root, testDir), { classes: train.classes });
      break;
    }
  }
  if (train.classes.length !== test.classes.length) {
    throw new Error(
      `${kind}: train has ${train.classes.length} classes but test ${test.classes.length}`,
    );
  }
  return { train, test, numClasses: train.classes.length, ...norm };
}

/** §7: RandomResizedCrop(size) + flip for training; Resize(resize) → CenterCrop(size) for test. */
export function transferTransforms(
  c: Pick<TransferConfig, "imageSize" | "resize">,
  mean: number[],
  std: number[],
) {
  const trainT: TransformStep[] = [
    { op: "randomResizedCrop", size: c.imageSize },
    { op: "hflip", p: 0.5 },
    { op: "toTensor" },
    { op: "normalize", mean, std },
  ];
  const testT: TransformStep[] = [
    { op: "resize", size: c.resize },
    { op: "centerCrop", size: c.imageSize },
    { op: "toTensor" },
    { op: "normalize", mean, std },
  ];
  return { train: trainT, test: testT };
}
