import { after, describe, it } from "node:test";
import { LRScheduler, SGD } from "../../src/optim/index.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

describe("LR schedules equal torch.optim.lr_scheduler's", () => {
  const ref = new TorchRef();
  after(() => ref.close());
  const cases = [
    {
      name: "step",
      ours: { kind: "step", stepSize: 3, gamma: 0.1 } as const,
      py: "torch.optim.lr_scheduler.StepLR(opt, 3, 0.1)",
    },
    {
      name: "multistep",
      ours: { kind: "multistep", milestones: [2, 5], gamma: 0.5 } as const,
      py: "torch.optim.lr_scheduler.MultiStepLR(opt, [2, 5], 0.5)",
    },
    {
      name: "poly",
      ours: { kind: "poly", maxSteps: 10, power: 0.9 } as const,
      py: "torch.optim.lr_scheduler.PolynomialLR(opt, 10, 0.9)",
    },
    {
      name: "cosine",
      ours: { kind: "cosine", maxSteps: 10, minLr: 0.01 } as const,
      py: "torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, 0.01)",
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const p = T.zeros([1]).requiresGrad_(true);
      const opt = new SGD([p], { lr: 0.3 });
      const sched = new LRScheduler(opt.paramGroups, c.ours);
      const mine: number[] = [];
      for (let e = 0; e < 12; e++) {
        mine.push(sched.lrs[0]);
        sched.step();
      }
      const [theirs] = await ref.run(
        `p = torch.zeros(1, requires_grad=True)\nopt = torch.optim.SGD([p], lr=0.3)\ns = ${c.py}\nlrs = []\nfor e in range(12):\n    lrs.append(opt.param_groups[0]["lr"])\n    opt.step()\n    s.step()\nlrs = torch.tensor(lrs, dtype=torch.float64)`,
        {},
        ["lrs"],
      );
      assertClose(T.fromArray(Float64Array.from(mine)), theirs, c.name, 1e-9, 1e-12);
    });
  }
});
