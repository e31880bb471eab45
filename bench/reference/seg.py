# PyTorch side of bench/seg/run.ts: a PSPNet-R18 training step and semseg's sliding-window +
# flip inference of one image, with the independent PSPNet of the tests
# (test/helpers/pspnet_ref.py). One JSON request per line on stdin, one answer per line:
#   {"op": "setup", "spec": {...}, "warmup": n}   builds model, input and step
#   {"op": "time", "iters": n}                     -> {"s": seconds per step, best of n}
# Usage: seg.py THREADS
import json, os, sys, time
import torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "helpers"))
import pspnet_ref
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]))

def setup(spec):
    torch.manual_seed(0)
    m = pspnet_ref.PSPNetRef("resnet18", spec["classes"])
    if spec["kind"] == "train":
        b, c = spec["batch"], spec["crop"]
        x = torch.randn(b, 3, c, c)
        y = torch.randint(0, spec["classes"], (b, c, c))
        heads = {id(p) for n in ("ppm", "cls", "aux") for p in getattr(m, n).parameters()}
        opt = torch.optim.SGD(
            [{"params": [p for p in m.parameters() if id(p) not in heads], "lr": 0.01},
             {"params": [p for p in m.parameters() if id(p) in heads], "lr": 0.1}],
            lr=0.01, momentum=0.9, weight_decay=1e-4)
        m.train()
        def step():
            main, aux = m(x)
            loss = F.cross_entropy(main, y, ignore_index=255) + 0.4 * F.cross_entropy(aux, y, ignore_index=255)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    else:
        h, w = spec["height"], spec["width"]
        x = torch.randn(1, 3, h, w)
        def step():
            pspnet_ref.sliding_probs(m, x, spec["classes"], (spec["crop"], spec["crop"]), max(h, w)).argmax(0)
    return step

step = None
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "setup":
        step = setup(req["spec"])
        for _ in range(req["warmup"]):
            step()
        out = {}
    else:
        best = float("inf")
        for _ in range(req["iters"]):
            t0 = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - t0)
        out = {"s": best}
    print(json.dumps(out), flush=True)
