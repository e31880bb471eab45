# PyTorch side of bench/kdep: the same KDEP training step (ResNet-50 teacher → ResNet-18
# student, SVD + PTS target, MSE, SGD), and the SVD pass done the usual way (collect X,
# then torch.linalg.svd), with its peak memory.
import json, resource, sys, time, types
import torch, torch.nn as nn, torch.nn.functional as F, torchvision

torch.set_num_threads(int(sys.argv[1]))

def peak_mib():
    # VmHWM, this address space's own peak: ru_maxrss survives exec on Linux and would
    # report the parent's (the node process that ran the step benchmark) when larger.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
mode = sys.argv[2]

def pre_relu(blk, bottleneck):
    def f(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        if bottleneck:
            out = self.relu(self.bn2(self.conv2(out))); out = self.bn3(self.conv3(out))
        else:
            out = self.bn2(self.conv2(out))
        return out + (self.downsample(x) if self.downsample is not None else x)
    blk.forward = types.MethodType(f, blk)

t = torchvision.models.resnet50(); pre_relu(t.layer4[-1], True); t.fc = nn.Identity(); t.eval()
for p in t.parameters(): p.requires_grad_(False)

if mode == "step":
    batch, size, iters = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = torchvision.models.resnet18(); pre_relu(s.layer4[-1], False); s.fc = nn.Identity(); s.train()
    V = torch.linalg.qr(torch.randn(2048, 2048))[0][:, :512].contiguous(); mu = torch.randn(2048) * 0.1
    opt = torch.optim.SGD(s.parameters(), lr=0.3, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, size, size)
    def step():
        with torch.no_grad():
            z = (t(x) - mu) @ V
            tgt = torch.sign(z) * (z.abs() / 0.1) ** (1 / 3)
        opt.zero_grad()
        loss = 3.0 * F.mse_loss(s(x), tgt)
        loss.backward(); opt.step()
    step()
    ts = []
    t0 = time.perf_counter()
    for _ in range(iters):
        a = time.perf_counter(); step(); ts.append(time.perf_counter() - a)
    ts.sort()
    print(json.dumps({"ips": batch / ts[len(ts) // 2], "seconds": time.perf_counter() - t0,
                      "peak_mib": peak_mib()}))
elif mode == "forward":
    # The teacher alone (what building a target cache costs per image).
    batch, size, iters = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        t(x)
        ts = []
        for _ in range(iters):
            a = time.perf_counter(); t(x); ts.append(time.perf_counter() - a)
    ts.sort()
    print(json.dumps({"ips": batch / ts[len(ts) // 2]}))
else:
    n, size, batch = int(sys.argv[3]), int(sys.argv[4]), 64
    a = time.perf_counter()
    feats = []
    with torch.no_grad():
        for i in range(0, n, batch):
            x = torch.randn(min(batch, n - i), 3, size, size)
            feats.append(t(x))
    X = torch.cat(feats).double()
    X -= X.mean(0)
    U, S, Vh = torch.linalg.svd(X, full_matrices=False)
    print(json.dumps({"seconds": time.perf_counter() - a, "peak_mib": peak_mib()}))
