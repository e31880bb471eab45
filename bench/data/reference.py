"""torchvision reference for bench/data/run.ts: the KDEP training augmentation
(docs/method.md#augmentation) over an ImageFolder, torch DataLoader, batch 64, N workers.

usage: reference.py ROOT WORKERS EPOCHS  → prints one JSON line {"images_per_s": ...}
"""
import json
import sys
import time

import torch
import torchvision.transforms as T
from torchvision.datasets import ImageFolder


class Lighting:
    """robustness' Lighting (AlexNet PCA), plus the clamp of docs/method.md#augmentation."""

    def __init__(self, alphastd, eigval, eigvec):
        self.alphastd, self.eigval, self.eigvec = alphastd, eigval, eigvec

    def __call__(self, img):
        alpha = img.new().resize_(3).normal_(0, self.alphastd)
        rgb = (self.eigvec.type_as(img).clone().mul(alpha.view(1, 3).expand(3, 3))
               .mul(self.eigval.view(1, 3).expand(3, 3)).sum(1).squeeze())
        return img.add(rgb.view(3, 1, 1).expand_as(img)).clamp_(0, 1)


transform = T.Compose([
    T.RandomResizedCrop(224),
    T.RandomHorizontalFlip(),
    T.ColorJitter(0.1, 0.1, 0.1),
    T.ToTensor(),
    Lighting(0.05, torch.tensor([0.2175, 0.0188, 0.0045]),
             torch.tensor([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])),
    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])

if __name__ == "__main__":
    root, workers, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ds = ImageFolder(root, transform)
    dl = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers,
                                     persistent_workers=workers > 0, drop_last=False)
    for _ in dl:  # warm-up epoch: worker start-up, page cache
        pass
    n = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, y in dl:
            n += x.shape[0]
    dt = time.perf_counter() - t0
    print(json.dumps({"images_per_s": n / dt, "images": n, "seconds": dt}))
