// Segmentation readers (index + sample loading): VOC2012 (+ SBD train_aug list),
// Cityscapes (gtFine labelTrainIds), ADE20K (SceneParsing). Each sample is an RGB image
// file plus a one-channel label PNG; 255 is the ignore label throughout
// (docs/method.md#segmentation-transfer).
import { basename, join } from "node:path";
import { Dataset } from "./dataset.js";
import { exists, isDir, isImageFile, lines, listDir, readText, sortCodepoint } from "./files.js";

export const VOC_CLASSES = [
  "background",
  "aeroplane",
  "bicycle",
  "bird",
  "boat",
  "bottle",
  "bus",
  "car",
  "cat",
  "chair",
  "cow",
  "diningtable",
  "dog",
  "horse",
  "motorbike",
  "person",
  "pottedplant",
  "sheep",
  "sofa",
  "train",
  "tvmonitor",
];
export const CITYSCAPES_CLASSES = [
  "road",
  "sidewalk",
  "building",
  "wall",
  "fence",
  "pole",
  "traffic light",
  "traffic sign",
  "vegetation",
  "terrain",
  "sky",
  "person",
  "rider",
  "car",
  "truck",
  "bus",
  "train",
  "motorcycle",
  "bicycle",
];

function segDataset(
  name: string,
  classes: string[],
  images: string[],
  masks: string[],
  maskMap: "identity" | "ade20k" = "identity",
): Dataset {
  return new Dataset({
    name,
    classes,
    labels: new Int32Array(images.length).fill(-1),
    source: { kind: "files", paths: images },
    masks,
    maskMap,
  });
}

/**
 * VOC2012 segmentation. `root` is VOCdevkit/VOC2012 (or its parent). Split lists:
 * ImageSets/Segmentation/<split>.txt (ids), or `listFile`: the train_aug list of the SBD
 * augmentation as semseg ships it, "JPEGImages/x.jpg SegmentationClassAug/x.png" per
 * line (paths relative to root), or plain ids (masks from SegmentationClassAug/).
 */
export async function voc2012Seg(
  root: string,
  split: "train" | "val" | "trainval",
  listFile?: string,
): Promise<Dataset> {
  const base = (await exists(join(root, "VOC2012")))
    ? join(root, "VOC2012")
    : (await exists(join(root, "VOCdevkit")))
      ? join(root, "VOCdevkit", "VOC2012")
      : root;
  const what = `VOC2012(${base})`;
  const file = listFile ?? join(base, "ImageSets", "Segmentation", `${split}.txt`);
  const images: string[] = [];
  const masks: string[] = [];
  const maskDir = listFile ? "SegmentationClassAug" : "SegmentationClass";
  for (const l of lines(await readText(file, what))) {
    const parts = l.split(/\s+/);
    if (parts.length >= 2) {
      images.push(join(base, parts[0].replace(/^\//, "")));
      masks.push(join(base, parts[1].replace(/^\//, "")));
    } else {
      images.push(join(base, "JPEGImages", `${parts[0]}.jpg`));
      masks.push(join(base, maskDir, `${parts[0]}.png`));
    }
  }
  await checkFirst(what, images, masks);
  return segDataset(`${what} ${listFile ? basename(listFile) : split}`, VOC_CLASSES, images, masks);
}

/** Cityscapes: leftImg8bit/<split>/<city>/*_leftImg8bit.png + gtFine/.../*_gtFine_labelTrainIds.png. */
export async function cityscapes(root: string, split: "train" | "val" | "test"): Promise<Dataset> {
  const what = `Cityscapes(${root})`;
  const imgRoot = join(root, "leftImg8bit", split);
  const images: string[] = [];
  const masks: string[] = [];
  for (const city of sortCodepoint(await listDir(imgRoot, what))) {
    if (!(await isDir(join(imgRoot, city)))) continue;
    for (const f of sortCodepoint(await listDir(join(imgRoot, city), what))) {
      if (!f.endsWith("_leftImg8bit.png")) continue;
      images.push(join(imgRoot, city, f));
      masks.push(
        join(
          root,
          "gtFine",
          split,
          city,
          f.replace("_leftImg8bit.png", "_gtFine_labelTrainIds.png"),
        ),
      );
    }
  }
  if (images.length === 0) throw new Error(`${what}: no *_leftImg8bit.png under ${imgRoot}`);
  await checkFirst(
    what,
    images,
    masks,
    "(run cityscapesscripts' createTrainIdLabelImgs to make *_labelTrainIds.png)",
  );
  return segDataset(`${what} ${split}`, CITYSCAPES_CLASSES, images, masks);
}

/**
 * ADE20K SceneParsing (ADEChallengeData2016/{images,annotations}/{training,validation}).
 * Masks hold 0 = other, 1..150 = classes; they are shifted on load so classes are
 * 0..149 and "other" is the ignore label 255.
 */
export async function ade20k(root: string, split: "train" | "val"): Promise<Dataset> {
  const base = (await exists(join(root, "ADEChallengeData2016")))
    ? join(root, "ADEChallengeData2016")
    : root;
  const what = `ADE20K(${base})`;
  const sub = split === "train" ? "training" : "validation";
  const imgDir = join(base, "images", sub);
  const files = sortCodepoint((await listDir(imgDir, what)).filter(isImageFile));
  const images = files.map((f) => join(imgDir, f));
  const masks = files.map((f) => join(base, "annotations", sub, f.replace(/\.[^.]+$/, ".png")));
  if (images.length === 0) throw new Error(`${what}: no images in ${imgDir}`);
  await checkFirst(what, images, masks);
  const classes = Array.from({ length: 150 }, (_, i) => `class${i + 1}`);
  return segDataset(`${what} ${split}`, classes, images, masks, "ade20k");
}

/** Fails early, naming the file, when the first image or mask does not exist. */
async function checkFirst(
  what: string,
  images: string[],
  masks: string[],
  hint = "",
): Promise<void> {
  if (images.length > 0 && !(await exists(images[0])))
    throw new Error(`${what}: missing image ${images[0]}`);
  if (masks.length > 0 && !(await exists(masks[0])))
    throw new Error(`${what}: missing mask ${masks[0]} ${hint}`.trim());
}
