"""Small classification datasets in their real on-disk formats, for the reader tests
(make_fixtures.py) and the end-to-end `kdep transfer suite` test.

  CIFAR-100     cifar-100-python/{train,test,meta} pickles (extracted, or in the .tar.gz)
  DTD           dtd/images/<class>/<class>_NNNN.jpg + dtd/labels/{train,val,test}1.txt
  Caltech-256   256_ObjectCategories/NNN.name/NNN_XXXX.jpg
  CUB-200-2011  CUB_200_2011/{images.txt,image_class_labels.txt,train_test_split.txt,images/}

usage: classification_fixtures.py ROOT → ROOT/{cifar-100-python,dtd,256_ObjectCategories,
CUB_200_2011}, the folder names `kdep transfer suite --data-root` looks for.
"""
import io
import os
import pickle
import sys
import tarfile

import numpy as np
from PIL import Image


def noise_images(seed):
    """A writer of random RGB images (optionally greyscale), from its own generator."""
    rng = np.random.default_rng(seed)

    def write(path, w=24, h=20, mode="RGB"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        im = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        if mode == "L":
            im = im.convert("L")
        im.save(path)

    return write


CIFAR_META = {b"fine_label_names": [b"class%03d" % i for i in range(100)],
              b"coarse_label_names": [b"c%d" % i for i in range(20)]}


def cifar100_batch(n, seed):
    """One pickled CIFAR-100 batch's dict: uint8 rows of 3072 (CHW) and fine/coarse labels."""
    r = np.random.default_rng(seed)
    return {b"data": r.integers(0, 255, (n, 3072), dtype=np.uint8), b"fine_labels": [int(x) for x in r.integers(0, 100, n)],
            b"coarse_labels": [int(x) for x in r.integers(0, 20, n)], b"filenames": [b"f%d.png" % i for i in range(n)],
            b"batch_label": b"training batch 1 of 1"}


def write_cifar100_dir(folder, train, test, protocol=2):
    """folder/cifar-100-python/{train,test,meta}; protocol 2 is how the real files were written."""
    os.makedirs(f"{folder}/cifar-100-python")
    for name, obj in [("train", train), ("test", test), ("meta", CIFAR_META)]:
        with open(f"{folder}/cifar-100-python/{name}", "wb") as f:
            pickle.dump(obj, f, protocol=protocol)


def write_cifar100_tar(path, train, test, protocol=4):
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in [("train", train), ("test", test), ("meta", CIFAR_META)]:
            b = pickle.dumps(obj, protocol=protocol)
            ti = tarfile.TarInfo(f"cifar-100-python/{name}")
            ti.size = len(b)
            tar.addfile(ti, io.BytesIO(b))


def write_dtd(folder, classes, per_class, img):
    """folder/dtd: image i of a class goes to train1, val1, test1 in turn."""
    lists = {"train1": [], "val1": [], "test1": []}
    for c in classes:
        for i in range(per_class):
            img(f"{folder}/dtd/images/{c}/{c}_{i:04d}.jpg")
            lists[["train1", "val1", "test1"][i % 3]].append(f"{c}/{c}_{i:04d}.jpg")
    os.makedirs(f"{folder}/dtd/labels")
    for k, v in lists.items():
        open(f"{folder}/dtd/labels/{k}.txt", "w").write("\n".join(v) + "\n")


def write_caltech256(folder, counts):
    """folder/256_ObjectCategories; image i of a category is 8×8 of colour (i, 0, 0)."""
    for c, n in counts:
        for i in range(1, n + 1):
            p = f"{folder}/256_ObjectCategories/{c}/{c[:3]}_{i:04d}.jpg"
            os.makedirs(os.path.dirname(p), exist_ok=True)
            Image.new("RGB", (8, 8), (i, 0, 0)).save(p)


def write_cub200(folder, class_names, per_class, train_per_class, img):
    """folder/CUB_200_2011 with the official index files; the first images of a class train."""
    cub = f"{folder}/CUB_200_2011"
    rows, labels, split = [], [], []
    k = 1
    for ci, c in enumerate(class_names):
        for i in range(per_class):
            rel = f"{c}/{c[4:]}_{i}.jpg"
            img(f"{cub}/images/{rel}", 10, 10)
            rows.append(f"{k} {rel}")
            labels.append(f"{k} {ci + 1}")
            split.append(f"{k} {1 if i < train_per_class else 0}")
            k += 1
    open(f"{cub}/images.txt", "w").write("\n".join(rows) + "\n")
    open(f"{cub}/image_class_labels.txt", "w").write("\n".join(labels) + "\n")
    open(f"{cub}/train_test_split.txt", "w").write("\n".join(split) + "\n")
    open(f"{cub}/classes.txt", "w").write("\n".join(f"{i + 1} {c}" for i, c in enumerate(class_names)) + "\n")


if __name__ == "__main__":
    root = sys.argv[1]
    img = noise_images(1)
    os.makedirs(root, exist_ok=True)
    write_cifar100_dir(root, cifar100_batch(40, 1), cifar100_batch(20, 2))
    # The suite folder is named "dtd" and holds the archive's own "dtd" folder.
    write_dtd(f"{root}/dtd", ["banded", "blotchy", "zigzagged"], 6, img)
    write_caltech256(root, [("001.ak47", 62), ("002.american-flag", 61), ("257.clutter", 62)])
    write_cub200(root, ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"], 4, 3, img)
