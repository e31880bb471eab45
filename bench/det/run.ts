// Faster R-CNN R18-FPN against torchvision's FasterRCNN with the same weights, the same two
// 600×800 images and targets, the same thread count, in the same run: one training step
// (forward with targets, backward, SGD step) and inference. Sides alternate and the best
// round of each is kept (this shared VM's speed drifts over minutes).
//
//   node dist/bench/det/run.js   (KDEP_BENCH_THREADS, _WARMUP, _ROUNDS, _ITERS override)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadStateDictFile } from "../../src/io/tensors.js";
import { FasterRcnn } from "../../src/models/detection/fasterRcnn.js";
import { SGD } from "../../src/optim/index.js";
import {
  fromArray,
  manualSeed,
  noGrad,
  rand,
  setNumThreads,
  tidy,
} from "../../src/tensor/index.js";
import { envNumber, PYTHON, printTable, timeit } from "../util.js";

const THREADS = envNumber("KDEP_BENCH_THREADS", 2);
const WARMUP = envNumber("KDEP_BENCH_WARMUP", 1);
const ROUNDS = envNumber("KDEP_BENCH_ROUNDS", 2);
const ITERS = envNumber("KDEP_BENCH_ITERS", 2);
const SCRIPT = fileURLToPath(new URL("../../../bench/reference/det.py", import.meta.url));

setNumThreads(THREADS);
const dir = mkdtempSync(join(tmpdir(), "kdep-bench-det-"));
const weights = join(dir, "frcnn.pth");
// One set of weights for both sides, written by torchvision's own builder.
execFileSync(PYTHON, [
  "-c",
  `import torch, torchvision, sys
torch.manual_seed(0)
bb = torchvision.models.detection.backbone_utils._resnet_fpn_extractor(torchvision.models.resnet18(), 5)
m = torchvision.models.detection.FasterRCNN(bb, num_classes=21)
torch.save(m.state_dict(), sys.argv[1])`,
  weights,
]);

const model = new FasterRcnn({
  backbone: "resnet18",
  head: "fpn",
  numClasses: 21,
  transform: { minSize: 600, maxSize: 1000 },
});
const { stateDict } = loadStateDictFile(weights);
model.loadStateDict(stateDict, { strict: true });
manualSeed(0);
const ims = [rand([3, 600, 800]), rand([3, 600, 800])];
const box = (r: number[]) => fromArray(r, [r.length / 4, 4], { dtype: "float32" });
const lab = (r: number[]) => fromArray(r, [r.length], { dtype: "int64" });
const targets = [
  { boxes: box([50, 60, 300, 400, 400, 100, 700, 500]), labels: lab([3, 7]) },
  { boxes: box([100, 100, 250, 200]), labels: lab([12]) },
];
const opt = new SGD(model.parameters(), { lr: 1e-4, momentum: 0.9, weightDecay: 1e-4 });

const trainStep = () =>
  tidy(() => {
    manualSeed(1);
    opt.zeroGrad();
    const l = model.losses(ims, targets);
    l.lossObjectness.add(l.lossRpnBoxReg).add(l.lossClassifier).add(l.lossBoxReg).backward();
    opt.step();
  });
const infer = () => tidy(() => noGrad(() => model.detect(ims)));

const best = {
  ours: { train: Infinity, infer: Infinity },
  torch: { train: Infinity, infer: Infinity },
};
for (let r = 0; r < ROUNDS; r++) {
  model.train();
  best.ours.train = Math.min(best.ours.train, timeit(trainStep, ITERS, WARMUP));
  model.eval();
  best.ours.infer = Math.min(best.ours.infer, timeit(infer, ITERS, WARMUP));
  const out = execFileSync(
    PYTHON,
    [SCRIPT, weights, String(THREADS), String(WARMUP), String(ITERS)],
    {
      encoding: "utf8",
    },
  );
  const t = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { train: number; infer: number };
  best.torch.train = Math.min(best.torch.train, t.train);
  best.torch.infer = Math.min(best.torch.infer, t.infer);
}
rmSync(dir, { recursive: true, force: true });
printTable(
  `Faster R-CNN R18-FPN, 2 images 600×800, ${THREADS} threads (best of ${ROUNDS} rounds)`,
  [
    {
      name: "train step (fwd + bwd + SGD)",
      unit: "s",
      ours: best.ours.train,
      torch: best.torch.train,
      target: 1,
    },
    { name: "inference", unit: "s", ours: best.ours.infer, torch: best.torch.infer, target: 1 },
  ],
);
