# Reference side of bench/det: torchvision's FasterRCNN R18-FPN (trainable BN, all layers
# trainable) with the weights in argv[1], timing one training step (forward with targets,
# backward, SGD step) and inference on two images of 600×800, as bench/det/run.ts does.
import json, sys, time
import torch, torchvision

path, threads, warmup, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
bb = torchvision.models.detection.backbone_utils._resnet_fpn_extractor(torchvision.models.resnet18(), 5)
m = torchvision.models.detection.FasterRCNN(bb, num_classes=21, min_size=600, max_size=1000)
m.load_state_dict(torch.load(path))
torch.manual_seed(0)
ims = [torch.rand(3, 600, 800), torch.rand(3, 600, 800)]
tg = [{"boxes": torch.tensor([[50., 60, 300, 400], [400, 100, 700, 500]]), "labels": torch.tensor([3, 7])},
      {"boxes": torch.tensor([[100., 100, 250, 200]]), "labels": torch.tensor([12])}]
opt = torch.optim.SGD(m.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)

def median(fn):
    for _ in range(warmup): fn()
    ts = []
    for _ in range(iters):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]

def step():
    torch.manual_seed(1)
    opt.zero_grad()
    sum(m(ims, tg).values()).backward()
    opt.step()

m.train()
train = median(step)
m.eval()
def infer():
    with torch.no_grad(): m(ims)
print(json.dumps({"train": train, "infer": median(infer)}))
