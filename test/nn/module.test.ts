import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { BatchNorm2d, Conv2d, Linear } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";
import { SMALL_NET_PY, smallNet } from "./smallNet.js";

describe("Module", () => {
  const ref = new TorchRef();
  after(() => ref.close());

  it("state dict names and order are PyTorch's", async () => {
    const net = smallNet();
    const keys = [...net.stateDict().keys()];
    const [encoded] = await ref.run(
      `${SMALL_NET_PY()}\nimport json\nk = torch.tensor(list(json.dumps(list(net.state_dict().keys())).encode()), dtype=torch.uint8)`,
      {},
      ["k"],
    );
    const theirs = JSON.parse(Buffer.from(encoded.toTypedArray() as Uint8Array).toString());
    assert.deepEqual(keys, theirs);
    assert.ok(keys.includes("1.num_batches_tracked"));
  });

  it("default initialisation equals PyTorch's from the same seed", async () => {
    T.manualSeed(11);
    const conv = new Conv2d(3, 8, 3);
    const lin = new Linear(5, 4);
    const outs = await ref.run(
      "torch.manual_seed(11); c = nn.Conv2d(3, 8, 3); l = nn.Linear(5, 4)",
      {},
      ["c.weight", "c.bias", "l.weight", "l.bias"],
    );
    [conv.weight, conv.bias!, lin.weight, lin.bias!].forEach((t, i) => {
      assertClose(t.detach(), outs[i], `param ${i}`, 0, 0);
    });
  });

  it("loadStateDict reports missing/unexpected keys and names shape mismatches", () => {
    const bn = new BatchNorm2d(4);
    const sd = new Map(bn.stateDict());
    sd.delete("running_var");
    sd.set("extra", T.zeros([1]));
    assert.throws(
      () => bn.loadStateDict(sd),
      /missing keys \[running_var\].*unexpected keys \[extra\]/,
    );
    const r = bn.loadStateDict(sd, { strict: false });
    assert.deepEqual(r, { missingKeys: ["running_var"], unexpectedKeys: ["extra"] });
    const bad = new Map(bn.stateDict());
    bad.set("weight", T.ones([5]));
    assert.throws(
      () => bn.loadStateDict(bad),
      /Size mismatch for weight: checkpoint has \[5\], the model has \[4\]/,
    );
  });

  it("train/eval, freezing and parameters({recurse})", () => {
    const net = smallNet();
    net.eval();
    assert.ok(net.modules().every((m) => !m.training));
    net.train();
    assert.ok(net.modules().every((m) => m.training));
    net.requiresGrad_(false);
    assert.ok(net.parameters().every((p) => !p.requiresGrad));
    assert.equal(net.parameters(false).length, 0);
    assert.equal(net.parameters().length, 12);
  });

  it("to(dtype) converts in place: same tensor objects, integer buffers kept, still trainable", () => {
    T.manualSeed(3);
    const net = smallNet();
    const x = T.randn([2, 3, 32, 32]);
    net.eval();
    const before = T.noGrad(() => net.forward(x)).toArray();
    const params = net.parameters();
    const frozen = params[0].requiresGrad_(false);
    // A gradient present before the move moves with its parameter.
    T.tidy(() => net.forward(x).sum().backward());
    net.to({ dtype: "float64" });
    assert.ok(net.parameters().every((p, i) => p === params[i] && p.dtype === "float64"));
    assert.equal(frozen.requiresGrad, false);
    assert.ok(params.slice(1).every((p) => p.requiresGrad && p.isLeaf));
    assert.equal(params[1].grad?.dtype, "float64");
    const counters = net.stateDict();
    for (const [k, t] of counters)
      assert.equal(t.dtype, k.endsWith("num_batches_tracked") ? "int64" : "float64", k);
    const after64 = T.noGrad(() => net.forward(x.double())).toArray();
    for (const [i, v] of after64.entries())
      assert.ok(Math.abs(v - before[i]) < 1e-4, `output ${i}`);
    // The optimiser's references are the module's tensors: a step still trains them.
    net.train();
    net.zeroGrad();
    T.tidy(() => net.forward(x.double()).sum().backward());
    assert.equal(params[1].grad?.dtype, "float64");
    net.to("cpu"); // already there: nothing changes
    assert.equal(params[1].dtype, "float64");
  });

  it("batch-norm running statistics update like PyTorch's in training mode", async () => {
    T.manualSeed(2);
    const net = smallNet();
    const x = T.randn([4, 3, 16, 16]);
    const sd = [...net.stateDict().entries()];
    const inputs = Object.fromEntries(sd.map(([, t], i) => [`p${i}`, t.detach().clone()]));
    net.train();
    T.noGrad(() => net.forward(x));
    net.forward(x);
    const code = `${SMALL_NET_PY()}
sd = net.state_dict()
for i, k in enumerate(sd.keys()):
    sd[k].copy_(globals()["p%d" % i])
net.train()
with torch.no_grad():
    net(x)
y = net(x)`;
    const theirs = await ref.run(
      code,
      { ...inputs, x },
      sd.map((_, i) => `list(net.state_dict().values())[${i}]`),
    );
    sd.forEach(([k, t], i) => {
      assertClose(t.detach(), theirs[i], k, 1e-5, 1e-6);
    });
  });
});
