"""Writes small dataset fixtures in the real formats for test/data/datasets.test.ts.

usage: make_fixtures.py ROOT  → prints JSON with what Python reads back (the truth).
"""
import json
import os
import sys

import numpy as np
from classification_fixtures import (cifar100_batch, write_caltech256, write_cifar100_dir, write_cifar100_tar,
                                     write_cub200, write_dtd)
from PIL import Image

root = sys.argv[1]
rng = np.random.default_rng(0)
truth = {}


def img(path, w=24, h=20, mode="RGB"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    im = Image.fromarray(a)
    if mode == "L":
        im = im.convert("L")
    im.save(path)


# ImageFolder: jpg/png/webp, a nested folder, a non-image file, a greyscale image.
for c in ["zebra", "Apple", "mango"]:
    for i, ext in enumerate(["jpg", "png", "webp"]):
        img(f"{root}/folder/{c}/{i}.{ext}")
img(f"{root}/folder/mango/sub/x.jpeg", mode="L")
open(f"{root}/folder/mango/notes.txt", "w").write("not an image")
from torchvision.datasets import ImageFolder  # noqa: E402

ds = ImageFolder(f"{root}/folder")
truth["imagefolder"] = {"classes": ds.classes, "samples": [[os.path.relpath(p, root), t] for p, t in ds.samples]}

# CIFAR-100 python: protocol 2 (how the real files were written, by Python 2) extracted,
# and protocol 4 inside a tar.gz.
train, test = cifar100_batch(50, 1), cifar100_batch(20, 2)
write_cifar100_dir(f"{root}/cifar", train, test, protocol=2)
write_cifar100_tar(f"{root}/cifar-100-python.tar.gz", train, test, protocol=4)
truth["cifar"] = {"train_labels": train[b"fine_labels"], "test_labels": test[b"fine_labels"],
                  "train0_hwc": train[b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0).ravel().tolist()}
# Binary version: <coarse><fine><3072 bytes>.
os.makedirs(f"{root}/cifar-bin/cifar-100-binary")
with open(f"{root}/cifar-bin/cifar-100-binary/test.bin", "wb") as f:
    for i in range(20):
        f.write(bytes([test[b"coarse_labels"][i], test[b"fine_labels"][i]]) + test[b"data"][i].tobytes())
open(f"{root}/cifar-bin/cifar-100-binary/fine_label_names.txt", "w").write("\n".join(f"class{i:03d}" for i in range(100)) + "\n")

# DTD split 1.
write_dtd(f"{root}/dtd", ["banded", "blotchy", "zigzagged"], 6, img)

# Caltech-256: two categories + clutter, 63/61/62 images, file indices not in listing order.
write_caltech256(f"{root}/caltech", [("001.ak47", 63), ("002.american-flag", 61), ("257.clutter", 62)])
os.makedirs(f"{root}/caltech/256_ObjectCategories/001.ak47/greg")

# CUB-200-2011 official files (3 classes).
write_cub200(f"{root}/cub", ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"], 4, 3,
             lambda path, w, h: img(path, w, h))

# VOC2012: palette masks (indices, not colours), a train_aug list, an XML annotation.
voc = f"{root}/voc/VOCdevkit/VOC2012"
for i, name in enumerate(["2007_000032", "2007_000039"]):
    img(f"{voc}/JPEGImages/{name}.jpg", 16, 12)
    m = np.zeros((12, 16), np.uint8)
    m[2:6, 3:9] = 15
    m[0, :] = 255
    p = Image.fromarray(m, "P")
    p.putpalette([v for c in range(256) for v in ((c * 37) % 256, (c * 91) % 256, (c * 53) % 256)])
    os.makedirs(f"{voc}/SegmentationClass", exist_ok=True)
    p.save(f"{voc}/SegmentationClass/{name}.png")
    os.makedirs(f"{voc}/SegmentationClassAug", exist_ok=True)
    Image.fromarray(m, "L").save(f"{voc}/SegmentationClassAug/{name}.png")
os.makedirs(f"{voc}/ImageSets/Segmentation")
open(f"{voc}/ImageSets/Segmentation/train.txt", "w").write("2007_000032\n2007_000039\n")
open(f"{root}/voc/train_aug.txt", "w").write(
    "JPEGImages/2007_000032.jpg SegmentationClassAug/2007_000032.png\n/JPEGImages/2007_000039.jpg /SegmentationClassAug/2007_000039.png\n")
os.makedirs(f"{voc}/Annotations")
open(f"{voc}/Annotations/2007_000032.xml", "w").write(
    "<annotation><size><width>500</width><height>281</height><depth>3</depth></size>"
    "<object><name>aeroplane</name><difficult>0</difficult><bndbox><xmin>104</xmin><ymin>78</ymin><xmax>375</xmax><ymax>183</ymax></bndbox></object>"
    "<object><name>person</name><difficult>1</difficult><bndbox><xmin>195</xmin><ymin>180</ymin><xmax>213</xmax><ymax>229</ymax></bndbox></object></annotation>")
os.makedirs(f"{voc}/ImageSets/Main")
open(f"{voc}/ImageSets/Main/train.txt", "w").write("2007_000032\n")

# Cityscapes.
for split_, city, n in [("train", "aachen", 2), ("train", "bochum", 1)]:
    for i in range(n):
        stem = f"{city}_{i:06d}_000019"
        img(f"{root}/cityscapes/leftImg8bit/{split_}/{city}/{stem}_leftImg8bit.png", 16, 8)
        os.makedirs(f"{root}/cityscapes/gtFine/{split_}/{city}", exist_ok=True)
        Image.fromarray(np.full((8, 16), 18 if i else 255, np.uint8), "L").save(
            f"{root}/cityscapes/gtFine/{split_}/{city}/{stem}_gtFine_labelTrainIds.png")

# ADE20K SceneParsing.
ade = f"{root}/ade/ADEChallengeData2016"
img(f"{ade}/images/training/ADE_train_00000001.jpg", 8, 6)
os.makedirs(f"{ade}/annotations/training")
Image.fromarray(np.array([[0, 1, 150, 7, 0, 2, 3, 4]] * 6, np.uint8), "L").save(f"{ade}/annotations/training/ADE_train_00000001.png")

# COCO instances json (sparse category ids).
json.dump({"images": [{"id": 7, "file_name": "a.jpg", "width": 640, "height": 480}, {"id": 9, "file_name": "b.jpg", "width": 10, "height": 10}],
           "annotations": [{"id": 1, "image_id": 7, "bbox": [10, 20, 30, 40], "category_id": 90, "iscrowd": 0, "area": 1200},
                           {"id": 2, "image_id": 7, "bbox": [0, 0, 5, 5], "category_id": 1, "iscrowd": 1, "area": 25}],
           "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"}]}, open(f"{root}/coco.json", "w"))

# A tiny ImageNet for the subset maker.
for c in ["n01", "n02", "n03"]:
    for i in range(10):
        p = f"{root}/imagenet/train/{c}/{c}_{i}.JPEG"
        os.makedirs(os.path.dirname(p), exist_ok=True)
        Image.new("RGB", (4, 4)).save(p, "JPEG")
    os.makedirs(f"{root}/imagenet/val/{c}")
    Image.new("RGB", (4, 4)).save(f"{root}/imagenet/val/{c}/val_{c}.JPEG", "JPEG")

print(json.dumps(truth))
