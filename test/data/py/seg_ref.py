"""Reference outputs for test/data/segmentation.test.ts: joint image + mask ops with fixed
parameters, through torchvision 0.14's functional API on PIL images (Pillow 9.x).

usage: seg_ref.py OUT_DIR CASES_JSON
Each case {"image": path, "mask": path, "ops": [...]} opens the image as RGB and the mask
as mode "L" (its raw values), applies the ops (the SegOp list of
src/data/transforms/segmentation.ts) and writes OUT_DIR/<name>.img.bin (uint8 HWC, or
float32 CHW after "normalize") and OUT_DIR/<name>.mask.bin (uint8 HW), plus
OUT_DIR/<name>.json with the final sizes.

The blur has no PIL/torchvision equivalent (cv2.GaussianBlur with sigma 0 uses a fixed
binomial kernel); it is evaluated here with numpy from the formula: separable
[1, 4, 6, 4, 1] / 16, reflect-101 borders, one round-half-up.
"""
import json
import sys

import numpy as np
import torchvision.transforms.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode

KERNELS = {3: [1, 2, 1], 5: [1, 4, 6, 4, 1], 7: [8, 28, 56, 72, 56, 28, 8]}


def blur(img, ksize):
    k = np.array(KERNELS[ksize], dtype=np.int64)
    r = ksize // 2
    a = np.asarray(img).astype(np.int64)
    p = np.pad(a, ((r, r), (r, r), (0, 0)), mode="reflect")  # numpy "reflect" = reflect-101
    h, w = a.shape[:2]
    horiz = sum(k[t] * p[:, t : t + w] for t in range(ksize))
    full = sum(k[t] * horiz[t : t + h] for t in range(ksize))
    shift = 2 * int(np.log2(k.sum()))
    out = (full + (1 << (shift - 1))) >> shift
    return Image.fromarray(out.astype(np.uint8), "RGB")


out_dir, cases = sys.argv[1], json.loads(sys.argv[2])
for name, case in cases.items():
    img = Image.open(case["image"]).convert("RGB")
    mask = Image.open(case["mask"])
    assert mask.mode in ("L", "P"), mask.mode
    mask = Image.fromarray(np.asarray(mask), "L")  # raw indices, as our PNG reader gives
    tensor = None
    for op in case["ops"]:
        kind = op["op"]
        if kind == "resize":
            size = [op["height"], op["width"]]
            img = F.resize(img, size, InterpolationMode.BILINEAR)
            mask = F.resize(mask, size, InterpolationMode.NEAREST)
        elif kind == "rotate":
            img = F.rotate(img, op["angle"], InterpolationMode.BILINEAR, fill=op["fill"])
            mask = F.rotate(mask, op["angle"], InterpolationMode.NEAREST, fill=op["ignore"])
        elif kind == "blur":
            img = blur(img, op["ksize"])
        elif kind == "hflip":
            img = F.hflip(img)
            mask = F.hflip(mask)
        elif kind == "padCrop":
            pad = op["pad"]
            if any(pad):
                img = F.pad(img, pad, fill=tuple(op["fill"]))
                mask = F.pad(mask, pad, fill=op["ignore"])
            img = F.crop(img, op["top"], op["left"], op["height"], op["width"])
            mask = F.crop(mask, op["top"], op["left"], op["height"], op["width"])
        elif kind == "normalize":
            tensor = F.normalize(F.to_tensor(img), op["mean"], op["std"])
        else:
            raise ValueError(kind)
    if tensor is not None:
        tensor.numpy().astype(np.float32).tofile(f"{out_dir}/{name}.img.bin")
    else:
        np.asarray(img, dtype=np.uint8).tofile(f"{out_dir}/{name}.img.bin")
    np.asarray(mask, dtype=np.uint8).tofile(f"{out_dir}/{name}.mask.bin")
    with open(f"{out_dir}/{name}.json", "w") as f:
        json.dump({"width": img.width, "height": img.height}, f)
