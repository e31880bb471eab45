// The checkpoint's optimiser state is torch.optim's layout, as the README promises:
// torch.optim.SGD.load_state_dict takes it, and the next step PyTorch takes from it equals
// ours (momentum buffers, weight decay, lr included).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SGD } from "../../src/optim/index.js";
import { saveCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import * as T from "../../src/tensor/index.js";
import { runPythonJson } from "../helpers/python.js";

test("torch.optim.SGD loads the checkpoint's optimiser state and steps as we do", () => {
  const dir = mkdtempSync(join(tmpdir(), "kdep-optstate-"));
  try {
    T.manualSeed(7);
    const a = T.randn([3, 2]).requiresGrad_(true);
    const b = T.randn([4]).requiresGrad_(true);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.05, weightDecay: 0 }], {
      lr: 0.1,
      momentum: 0.9,
      weightDecay: 1e-3,
    });
    // loss = Σ a³ + Σ (b − 1)², so gradients change from step to step.
    const step = () => {
      opt.zeroGrad();
      a.pow(3).sum().add(b.sub(1).pow(2).sum()).backward();
      opt.step();
    };
    step();
    step();
    const path = join(dir, "checkpoint.pth");
    saveCheckpointFile(path, {
      state: { a: a.detach(), b: b.detach() },
      optimizer: opt.stateDict(),
      schedule: { last_epoch: 2 },
      rng: T.zeros([1]),
      loop: { epoch: 0, step: 2, globalStep: 2, seconds: 0 },
      history: [],
    });
    step();
    const py = runPythonJson<{ a: number[][]; b: number[]; groups: number }>(
      `import sys, json, torch
ck = torch.load(sys.argv[1])
a = ck["state"]["a"].clone().requires_grad_(True)
b = ck["state"]["b"].clone().requires_grad_(True)
opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=1.0, momentum=0.5)
opt.load_state_dict(ck["optimizer"])
opt.zero_grad()
((a ** 3).sum() + ((b - 1) ** 2).sum()).backward()
opt.step()
print(json.dumps({"a": a.tolist(), "b": b.tolist(), "groups": len(opt.param_groups)}))`,
      [path],
    );
    assert.equal(py.groups, 2);
    const close = (x: number[], y: number[], what: string) => {
      assert.equal(x.length, y.length, what);
      for (let i = 0; i < x.length; i++) {
        assert.ok(Math.abs(x[i] - y[i]) <= 1e-6, `${what}[${i}]: ${x[i]} vs ${y[i]}`);
      }
    };
    close(py.a.flat(), [...(a.detach().toTypedArray() as Float32Array)], "a");
    close(py.b, [...(b.detach().toTypedArray() as Float32Array)], "b");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
