# PyTorch side of bench/models/run.ts: the same workloads with the same thread count. A
# long-lived process so the two sides can be timed in alternation (this 2-core VM's speed
# drifts by 2x over minutes). One JSON request per line on stdin, one JSON answer per line:
#   {"op": "setup", "spec": {...}}  builds model, input and step, runs `warmup` steps
#   {"op": "time", "iters": n}       -> {"ips": images per second over n steps}
# Usage: models.py THREADS
import json, sys, time
import torch
import torch.nn.functional as F
import torchvision

torch.set_num_threads(int(sys.argv[1]))

def setup(spec):
    torch.manual_seed(0)
    fmt = torch.channels_last if spec["channelsLast"] else torch.contiguous_format
    m = getattr(torchvision.models, spec["model"])().to(memory_format=fmt)
    b, s = spec["batch"], spec["size"]
    x = torch.randn(b, 3, s, s).contiguous(memory_format=fmt)
    if spec["kind"] == "train":
        m.train()
        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        t = torch.randint(0, 1000, (b,))
        def step():
            loss = F.cross_entropy(m(x), t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    else:
        m.eval()
        def step():
            with torch.inference_mode():
                m(x)
    return step, b

step, batch = None, 0
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "setup":
        step = batch = None
        step, batch = setup(req["spec"])
        for _ in range(req["warmup"]):
            step()
        out = {}
    else:
        t0 = time.perf_counter()
        for _ in range(req["iters"]):
            step()
        out = {"ips": batch * req["iters"] / (time.perf_counter() - t0)}
    print(json.dumps(out), flush=True)
