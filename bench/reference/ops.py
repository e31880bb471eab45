# PyTorch side of bench/ops: the same three measurements, same threads, printed as JSON.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]))

def timeit(fn, iters, warmup=None):
    for _ in range(warmup or max(1, -(-iters // 5))):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]

res = {}
a = torch.ones(4); b = torch.ones(4)
def tiny():
    for _ in range(1000):
        torch.add(a, b)
res["tiny"] = timeit(tiny, 50) / 1000

torch.manual_seed(0)
x = torch.randn(8, 64, 56, 56, requires_grad=True)
w = torch.randn(64, 64, 3, 3, requires_grad=True)
def conv():
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    x.grad = None; w.grad = None
res["conv"] = timeit(conv, 10)

net = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
xs = torch.randn(64, 3, 32, 32); ys = torch.randint(0, 10, (64,))
def step():
    opt.zero_grad()
    F.cross_entropy(net(xs), ys).backward()
    opt.step()
res["step"] = timeit(step, 30)
print(json.dumps(res))
