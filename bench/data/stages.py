"""Per-stage CPU time of torchvision's KDEP train augmentation, for bench/data/run.ts.

usage: stages.py ROOT COUNT  → prints one JSON line {stage: ms per image, ...}

One thread, the same images in a loop, best of 3 rounds of process CPU time: on a shared
machine this is steadier than throughput. The stages are the torchvision calls that
reference.py's Compose makes, in order.
"""
import io
import json
import os
import sys
import time

import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image
from torch.utils.data._utils.collate import default_collate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import Lighting, transform  # noqa: E402

torch.set_num_threads(1)
root, count = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".jpg"))[:count]
torch.manual_seed(0)


def cpu_ms(fn, items):
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for x in items:
            fn(x)
        best = min(best, time.process_time() - t0)
    return best * 1e3 / len(items)


out = {}
blobs = [open(f, "rb").read() for f in files]
out["read file"] = cpu_ms(lambda f: open(f, "rb").read(), files)
out["decode"] = cpu_ms(lambda b: Image.open(io.BytesIO(b)).convert("RGB"), blobs)
imgs = [Image.open(io.BytesIO(b)).convert("RGB") for b in blobs]
rrc = T.RandomResizedCrop(224)
out["crop + resize"] = cpu_ms(rrc, imgs)
crops = [rrc(i) for i in imgs]
flip = T.RandomHorizontalFlip()
jitter = T.ColorJitter(0.1, 0.1, 0.1)
out["flip + colour jitter"] = cpu_ms(lambda i: jitter(flip(i)), crops)
light = Lighting(0.05, torch.tensor([0.2175, 0.0188, 0.0045]),
                 torch.tensor([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]))
norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
out["to tensor + lighting + normalise"] = cpu_ms(lambda i: norm(light(F.to_tensor(i))), crops)
tensors = [transform(i) for i in imgs[:64]]
out["batch assembly (collate)"] = cpu_ms(lambda _: default_collate([(t, 0) for t in tensors]), [0]) / 64
out["whole sample (file to tensor)"] = cpu_ms(lambda f: transform(Image.open(f).convert("RGB")), files)
print(json.dumps(out))
