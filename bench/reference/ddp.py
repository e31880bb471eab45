# PyTorch side of bench/ddp: the KDEP step of bench/reference/kdep.py under
# DistributedDataParallel (Gloo, 25 MB buckets) when started by torch.distributed.run, or in
# one process otherwise; and a plain all-reduce of `bytes` for the transport alone.
#   python3 ddp.py <threads> <globalBatch> <size> <iters> <allreduceBytes>
import json, os, sys, time, types
import torch, torch.nn as nn, torch.nn.functional as F, torchvision
import torch.distributed as dist

threads, batch, size, iters, nbytes = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
world = int(os.environ.get("WORLD_SIZE", "1"))
if world > 1:
    dist.init_process_group("gloo")
rank = dist.get_rank() if world > 1 else 0
torch.manual_seed(0)

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
s = torchvision.models.resnet18(); pre_relu(s.layer4[-1], False); s.fc = nn.Identity(); s.train()
model = nn.parallel.DistributedDataParallel(s) if world > 1 else s
V = torch.linalg.qr(torch.randn(2048, 2048))[0][:, :512].contiguous(); mu = torch.randn(2048) * 0.1
opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9, weight_decay=5e-4)
x = torch.randn(batch // world, 3, size, size)

def step():
    with torch.no_grad():
        z = (t(x) - mu) @ V
        tgt = torch.sign(z) * (z.abs() / 0.1) ** (1 / 3)
    opt.zero_grad()
    loss = 3.0 * F.mse_loss(model(x), tgt)
    loss.backward(); opt.step()

step()
ts = []
for _ in range(iters):
    a = time.perf_counter(); step(); ts.append(time.perf_counter() - a)
ts.sort()
out = {"ips": batch / ts[len(ts) // 2]}
if world > 1 and nbytes > 0:
    flat = torch.zeros(nbytes // 4)
    dist.all_reduce(flat)
    ar = []
    for _ in range(5):
        a = time.perf_counter(); dist.all_reduce(flat); ar.append(time.perf_counter() - a)
    ar.sort()
    out["allReduceMs"] = ar[2] * 1e3
if rank == 0:
    print(json.dumps(out), flush=True)
