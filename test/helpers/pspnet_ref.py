# An independent PyTorch PSPNet for the parity tests, written from the protocol (KDEP's fork
# of hszhao/semseg), not from kdep's TypeScript: torchvision backbones, dilated as the
# reference does it (by editing conv strides/dilations after construction), PPM, heads,
# poly-lr SGD step with a 10x head group. Keys follow semseg (layer0.{0,1}, ppm.features,
# cls, aux); the MobileNetV2 body keeps torchvision's `features`.
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class PPM(nn.Module):
    def __init__(self, in_dim, red, bins):
        super().__init__()
        self.features = nn.ModuleList([
            nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(in_dim, red, 1, bias=False),
                          nn.BatchNorm2d(red), nn.ReLU(inplace=True)) for b in bins])

    def forward(self, x):
        out = [x]
        for f in self.features:
            out.append(F.interpolate(f(x), x.shape[2:], mode="bilinear", align_corners=True))
        return torch.cat(out, 1)


def head(cin, mid, classes, p):
    return nn.Sequential(nn.Conv2d(cin, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid),
                         nn.ReLU(inplace=True), nn.Dropout2d(p), nn.Conv2d(mid, classes, 1))


class PSPNetRef(nn.Module):
    def __init__(self, backbone, classes, head_channels=512, bins=(1, 2, 3, 6), dropout=0.1):
        super().__init__()
        self.mobile = backbone == "mobilenet_v2"
        if self.mobile:
            self.features = torchvision.models.mobilenet_v2().features
            fea = 1280
        else:
            r = getattr(torchvision.models, backbone)()
            self.layer0 = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
            self.layer1, self.layer2, self.layer3, self.layer4 = r.layer1, r.layer2, r.layer3, r.layer4
            # Output stride 8: stride 1 for each block's conv1 and downsample, dilate conv2 only.
            for layer, d in ((self.layer3, 2), (self.layer4, 4)):
                for n, m in layer.named_modules():
                    if n.endswith("conv2"):
                        m.dilation, m.padding, m.stride = (d, d), (d, d), (1, 1)
                    elif n.endswith("conv1") or n.endswith("downsample.0"):
                        m.stride = (1, 1)
            fea = 512 if backbone in ("resnet18", "resnet34") else 2048
            aux_in = fea // 2
        red = fea // len(bins)
        self.ppm = PPM(fea, red, bins)
        self.cls = head(fea + red * len(bins), head_channels, classes, dropout)
        if not self.mobile:
            self.aux = head(aux_in, head_channels // 2, classes, dropout)

    def forward(self, x):
        size = x.shape[2:]
        if self.mobile:
            y = self.features(x)
            l3 = None
        else:
            y = self.layer2(self.layer1(self.layer0(x)))
            l3 = self.layer3(y)
            y = self.layer4(l3)
        main = F.interpolate(self.cls(self.ppm(y)), size, mode="bilinear", align_corners=True)
        if not self.training:
            return main
        aux = main if l3 is None else F.interpolate(self.aux(l3), size, mode="bilinear", align_corners=True)
        return main, aux


def train_step(model, x, y, lr, it, max_it, aux_weight=0.4, power=0.9, wd=1e-4):
    """One step of the recipe: CE(main) + aux_weight*CE(aux) (ignore 255), SGD 0.9 with a
    backbone group at lr and a 10x group for ppm/cls/aux, poly lr set before the step."""
    head_ids = set()
    for name in ("ppm", "cls", "aux"):
        if hasattr(model, name):
            head_ids |= {id(p) for p in getattr(model, name).parameters()}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    heads = [p for p in model.parameters() if id(p) in head_ids]
    opt = torch.optim.SGD([{"params": backbone, "lr": lr}, {"params": heads, "lr": lr * 10}],
                          lr=lr, momentum=0.9, weight_decay=wd)
    f = (1 - it / max_it) ** power
    opt.param_groups[0]["lr"] = lr * f
    opt.param_groups[1]["lr"] = lr * 10 * f
    model.train()
    main, aux = model(x)
    loss = F.cross_entropy(main, y, ignore_index=255) + aux_weight * F.cross_entropy(aux, y, ignore_index=255)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def net_process(model, crop, flip=True):
    """Softmax of one window [1,3,h,w] averaged with its flip, as numpy float64 [h,w,C]."""
    x = torch.cat([crop, crop.flip(3)], 0) if flip else crop
    with torch.no_grad():
        out = F.softmax(model(x), dim=1)
    out = (out[0] + out[1].flip(2)) / 2 if flip else out[0]
    return out.permute(1, 2, 0).double().numpy()


def scale_process(model, image, classes, crop_h, crop_w, h, w, flip=True, stride_rate=2 / 3):
    """semseg's scale_process on a normalised image [1,3,H,W]: the mean padding is 0 here.
    cv2.resize (INTER_LINEAR) is stood in for by interpolate(bilinear, align_corners=False)."""
    import numpy as np
    _, _, ori_h, ori_w = image.shape
    pad_h, pad_w = max(crop_h - ori_h, 0), max(crop_w - ori_w, 0)
    ph2, pw2 = int(pad_h / 2), int(pad_w / 2)
    if pad_h > 0 or pad_w > 0:
        image = F.pad(image, (pw2, pad_w - pw2, ph2, pad_h - ph2))
    _, _, new_h, new_w = image.shape
    stride_h, stride_w = int(np.ceil(crop_h * stride_rate)), int(np.ceil(crop_w * stride_rate))
    grid_h = int(np.ceil(float(new_h - crop_h) / stride_h) + 1)
    grid_w = int(np.ceil(float(new_w - crop_w) / stride_w) + 1)
    pred = np.zeros((new_h, new_w, classes), dtype=float)
    count = np.zeros((new_h, new_w), dtype=float)
    for ih in range(grid_h):
        for iw in range(grid_w):
            s_h = ih * stride_h
            e_h = min(s_h + crop_h, new_h)
            s_h = e_h - crop_h
            s_w = iw * stride_w
            e_w = min(s_w + crop_w, new_w)
            s_w = e_w - crop_w
            count[s_h:e_h, s_w:e_w] += 1
            pred[s_h:e_h, s_w:e_w, :] += net_process(model, image[:, :, s_h:e_h, s_w:e_w], flip)
    pred /= np.expand_dims(count, 2)
    pred = pred[ph2:ph2 + ori_h, pw2:pw2 + ori_w]
    t = torch.from_numpy(pred).permute(2, 0, 1)[None].float()
    return F.interpolate(t, (h, w), mode="bilinear", align_corners=False)[0]


def sliding_probs(model, image, classes, crop, base_size, scales=(1.0,), flip=True):
    """semseg's test loop for one image: [C,H,W] probabilities averaged over scales."""
    model.eval()
    _, _, h, w = image.shape
    out = torch.zeros(classes, h, w)
    for s in scales:
        long = round(s * base_size)
        nh, nw = long, long
        if h > w:
            nw = round(long / float(h) * w)
        else:
            nh = round(long / float(w) * h)
        img = image if (nh, nw) == (h, w) else F.interpolate(image, (nh, nw), mode="bilinear", align_corners=False)
        out += scale_process(model, img, classes, crop[0], crop[1], h, w, flip)
    return out / len(scales)
