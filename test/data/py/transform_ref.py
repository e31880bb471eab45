"""Reference outputs for test/data/transforms.test.ts, from torchvision 0.14 (PIL path).

usage: transform_ref.py OUT_DIR CASES_JSON
Each case {"image": path, "ops": [...]} applies its ops to Image.open(path).convert("RGB"); the result is
written to OUT_DIR/<name>.bin as raw uint8 HWC, or float32 CHW after to_tensor.
"""
import json
import sys

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

out_dir, cases = sys.argv[1], json.loads(sys.argv[2])
EIGVAL = torch.tensor([0.2175, 0.0188, 0.0045])
EIGVEC = torch.tensor([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])

for name, case in cases.items():
    img = Image.open(case["image"]).convert("RGB")
    for op in case["ops"]:
        kind = op["op"]
        if kind == "decode":
            pass
        elif kind == "resized_crop":
            img = F.resized_crop(img, op["top"], op["left"], op["height"], op["width"], [op["outH"], op["outW"]],
                                 T.InterpolationMode.BILINEAR)
        elif kind == "resize":
            img = T.Resize(op["size"])(img)
        elif kind == "center_crop":
            img = T.CenterCrop(op["size"])(img)
        elif kind == "hflip":
            img = F.hflip(img)
        elif kind == "brightness":
            img = F.adjust_brightness(img, op["f"])
        elif kind == "contrast":
            img = F.adjust_contrast(img, op["f"])
        elif kind == "saturation":
            img = F.adjust_saturation(img, op["f"])
        elif kind == "hue":
            img = F.adjust_hue(img, op["f"])
        elif kind == "to_tensor":
            img = F.to_tensor(img)
        elif kind == "lighting":
            # robustness' Lighting with a fixed alpha, then the clamp of docs/method.md#augmentation
            alpha = torch.tensor(op["alpha"], dtype=torch.float32)
            rgb = EIGVEC.clone().mul(alpha.view(1, 3).expand(3, 3)).mul(EIGVAL.view(1, 3).expand(3, 3)).sum(1)
            img = img.add(rgb.view(3, 1, 1).expand_as(img)).clamp(0, 1)
        elif kind == "normalize":
            img = F.normalize(img, op["mean"], op["std"])
        elif kind == "rrc_params":
            i, j, h, w = T.RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3])
            img = torch.tensor([j, i, w, h], dtype=torch.float32)
        else:
            raise ValueError(kind)
    arr = img.numpy() if isinstance(img, torch.Tensor) else np.asarray(img)
    with open(f"{out_dir}/{name}.bin", "wb") as f:
        f.write(np.ascontiguousarray(arr).tobytes())
