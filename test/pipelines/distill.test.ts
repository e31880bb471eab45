// KDEP distillation: one step against the same step in PyTorch, learning on real images,
// and exact resume after SIGKILL.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { readNpy } from "../../src/io/npy.js";
import { fromRaw, loadStateDictFile } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import { loadWeightsInto } from "../../src/models/weights.js";
import { SGD } from "../../src/optim/index.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { runDistill } from "../../src/pipelines/kdep/distill.js";
import { DistillConfigSchema } from "../../src/pipelines/kdep/distillConfig.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import { runSvd } from "../../src/pipelines/kdep/svdPass.js";
import * as T from "../../src/tensor/index.js";
import { type FaultTrigger, faultEnv } from "../helpers/faultHook.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";
import { fmnistSmall, TEST_32, TRAIN_32 } from "./fixtures/fmnist.js";

const tmp = () => mkdtempSync(join(tmpdir(), "kdep-distill-"));

describe("KDEP distillation", () => {
  const ref = new TorchRef();
  after(() => ref.close());

  it("one step (ResNet-50 → ResNet-18, SVD + PTS, MSE, SGD) equals PyTorch's", async () => {
    const dir = tmp();
    const py = `
import torchvision, types, numpy as np
torch.manual_seed(0)
t = torchvision.models.resnet50(); s = torchvision.models.resnet18()
for m in (t, s):
    for b in m.modules():
        if isinstance(b, nn.BatchNorm2d):
            with torch.no_grad():
                b.weight.uniform_(0.5, 1.5); b.bias.normal_(0, 0.1); b.running_mean.normal_(0, 0.1); b.running_var.uniform_(0.5, 1.5)
torch.save(t.state_dict(), "${dir}/t.pth"); torch.save(s.state_dict(), "${dir}/s.pth")
V = torch.linalg.qr(torch.randn(2048, 2048))[0]; mu = torch.randn(2048) * 0.1
np.save("${dir}/V.npy", np.asfortranarray(V.numpy())); np.save("${dir}/mu.npy", mu.numpy())
def pre_relu(blk, bottleneck):
    def f(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        if bottleneck:
            out = self.relu(self.bn2(self.conv2(out))); out = self.bn3(self.conv3(out))
        else:
            out = self.bn2(self.conv2(out))
        return out + (self.downsample(x) if self.downsample is not None else x)
    blk.forward = types.MethodType(f, blk)
pre_relu(t.layer4[-1], True); pre_relu(s.layer4[-1], False)
t.fc = nn.Identity(); s.fc = nn.Identity(); t.eval(); s.train()
# kdep runs its frozen teacher with BN folded into the convs, as torch.fx's fuse does (the
# same folded weights, bit for bit), and channels-last on the CPU (freezeTeacher). Against
# another conv algorithm, PTS's cube root magnifies last-bit differences of targets near
# zero past this test's tolerance.
import torch.fx.experimental.optimization as fx_opt
t = fx_opt.fuse(t).to(memory_format=torch.channels_last)
with torch.no_grad():
    z = (t(x) - mu) @ V[:, :512]
    tgt = torch.sign(z) * (z.abs() / 0.1) ** (1 / 3)
opt = torch.optim.SGD(s.parameters(), lr=0.3, momentum=0.9, weight_decay=5e-4)
loss = 3.0 * F.mse_loss(s(x), tgt)
opt.zero_grad(); loss.backward(); opt.step()
torch.save(s.state_dict(), "${dir}/s_after.pth")
`;
    T.manualSeed(1);
    const x = T.randn([4, 3, 64, 64]);
    const [loss] = await ref.run(py, { x }, ["loss"]);
    const teacher = createModel("resnet50");
    loadWeightsInto(teacher, join(dir, "t.pth"));
    const student = createModel("resnet18", { numClasses: 0 });
    loadWeightsInto(student, join(dir, "s.pth"), { strict: false });
    const V = fromRaw(readNpy(join(dir, "V.npy")));
    const mean = fromRaw(readNpy(join(dir, "mu.npy")));
    const d = new Distiller(
      teacher,
      student,
      new SvdAlignment({ V, mean }, 512, 3, { temperature: 0.1, power: 3 }),
    );
    d.train();
    const opt = new SGD(d.parameters(), { lr: 0.3, momentum: 0.9, weightDecay: 5e-4 });
    const ours = d.step(x, T.zeros([4], { dtype: "int64" }), opt);
    assert.ok(
      Math.abs(ours.feature - loss.item()) <= 1e-4 * Math.abs(loss.item()),
      `loss ${ours.feature} vs ${loss.item()}`,
    );
    const { stateDict: theirs } = loadStateDictFile(join(dir, "s_after.pth"));
    for (const [k, t] of student.stateDict()) {
      assertClose(t.detach(), theirs.get(k)!, `updated ${k}`, 1e-4, 1e-6);
    }
  });

  it("SVD pass then a short distillation on Fashion-MNIST lowers the validation loss 1.5×", async () => {
    const out = tmp();
    T.manualSeed(0);
    // Narrow networks keep the test quick; the teacher is untrained, so its features are
    // partly noise the student cannot predict: 1.5× is what 8 epochs reach (about 1.6×).
    const teacher = createModel("resnet18", { numClasses: 0, width: 16 });
    const train = await fmnistSmall(40);
    const val = await fmnistSmall(10, "test");
    const svd = await runSvd({
      teacher,
      teacherId: "resnet18@random",
      data: train,
      transform: TRAIN_32,
      out: join(out, "svd"),
      batchSize: 64,
      workers: 1,
      progress: "quiet",
    });
    assert.ok(svd.result);
    assert.equal(svd.manifest.count, 400);
    const config = DistillConfigSchema.parse({
      student: "resnet18",
      teacher: "resnet18",
      epochs: 8,
      batchSize: 32,
      lr: 0.1,
      lrStep: 6,
      workers: 1,
      valEvery: 4,
      out: join(out, "run"),
    });
    const r = await runDistill({
      config,
      teacher,
      train,
      trainTransform: TRAIN_32,
      val,
      valTransform: TEST_32,
      student: createModel("resnet18", { numClasses: 0, width: 16 }),
      svd: { V: svd.result.V, mean: svd.result.mean },
      progress: "quiet",
    });
    const last = r.history[r.history.length - 1].val_loss;
    console.log(`validation distillation loss ${r.initialValLoss} → ${last}`);
    assert.ok(
      r.initialValLoss !== null && last < r.initialValLoss / 1.5,
      `validation loss ${r.initialValLoss} → ${last}`,
    );
    assert.deepEqual(
      r.history.map((h) => h.epoch),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.ok(existsSync(r.studentPath));
    const lines = readFileSync(join(r.runDir, "metrics.jsonl"), "utf8").trim().split("\n");
    assert.ok(lines.some((l) => JSON.parse(l).event === "distill/epoch"));
    // The exported student is the bare torchvision layout, no head.
    const { stateDict } = loadStateDictFile(r.studentPath);
    assert.ok(stateDict.has("layer4.1.bn2.running_var") && !stateDict.has("fc.weight"));
  });

  it("Ctrl-C during the initial validation pass stops before training, writing nothing", async () => {
    const out = tmp();
    T.manualSeed(0);
    const teacher = createModel("resnet18", { numClasses: 0, width: 8 });
    const config = DistillConfigSchema.parse({
      student: "resnet18",
      teacher: "resnet18",
      align: "none",
      epochs: 1,
      batchSize: 16,
      workers: 0,
      valEvery: 1,
      out,
    });
    // Signal once the run listens (it has started the initial pass, the first thing it does).
    const before = process.listenerCount("SIGINT");
    const poll = setInterval(() => {
      if (process.listenerCount("SIGINT") > before) {
        clearInterval(poll);
        process.emit("SIGINT", "SIGINT");
      }
    }, 0);
    const r = await runDistill({
      config,
      teacher,
      train: await fmnistSmall(4),
      trainTransform: TRAIN_32,
      val: await fmnistSmall(40, "test"),
      valTransform: TEST_32,
      student: createModel("resnet18", { numClasses: 0, width: 8 }),
      progress: "quiet",
    }).finally(() => clearInterval(poll));
    assert.equal(r.stopped, true);
    assert.equal(r.epochsDone, 0);
    assert.equal(r.initialValLoss, null);
    assert.equal(existsSync(join(out, "checkpoint.pth")), false);
    assert.equal(existsSync(r.studentPath), false);
    assert.equal(process.listenerCount("SIGINT"), before, "the run stopped listening");
  });

  it("a run killed with SIGKILL mid-epoch resumes exactly where an uninterrupted run goes", async () => {
    const child = fileURLToPath(new URL("./fixtures/distillChild.js", import.meta.url));
    const hook = fileURLToPath(new URL("../helpers/faultHook.js", import.meta.url));
    // Killed halfway through writing its third checkpoint (step 6; checkpoints every 2
    // steps): steps 5–6 are lost and the torn temp file must not matter. One thread, so
    // the resumed run can be compared bit for bit.
    const kill: FaultTrigger = { on: "write", file: "checkpoint.pth", count: 3, signal: "SIGKILL" };
    const runChild = (dir: string, killed: boolean) =>
      new Promise<NodeJS.Signals | number | null>((resolve, reject) => {
        const env = { ...process.env, KDEP_NUM_THREADS: "1", ...(killed ? faultEnv([kill]) : {}) };
        const p = spawn(process.execPath, ["--import", hook, child, dir, "2"], {
          stdio: ["ignore", "ignore", "inherit"],
          env,
        });
        p.on("error", reject);
        p.on("exit", (code, signal) => resolve(signal ?? code));
      });
    const full = tmp();
    assert.equal(await runChild(full, false), 0);
    const killed = tmp();
    assert.equal(await runChild(killed, true), "SIGKILL");
    assert.ok(
      readdirSync(killed).some((f) => f.endsWith(".tmp")),
      "a torn temp file is left",
    );
    const ck = loadCheckpointFile(join(killed, "checkpoint.pth"));
    assert.deepEqual([ck.loop.epoch, ck.loop.step], [0, 4]);
    assert.equal(await runChild(killed, false), 0);
    const a = loadCheckpointFile(join(full, "checkpoint.pth"));
    const b = loadCheckpointFile(join(killed, "checkpoint.pth"));
    assert.deepEqual(b.loop.epoch, a.loop.epoch);
    assert.deepEqual(b.loop.globalStep, a.loop.globalStep);
    assert.equal(b.optimizer.param_groups[0].lr, a.optimizer.param_groups[0].lr);
    const sa = loadStateDictFile(join(full, "student.pth")).stateDict;
    const sb = loadStateDictFile(join(killed, "student.pth")).stateDict;
    for (const [k, t] of sa) {
      assert.ok(Buffer.from(t.toBytes()).equals(Buffer.from(sb.get(k)!.toBytes())), `resumed ${k}`);
    }
  });
});
