// Every op of the tensor and functional layers against PyTorch: forward values and the
// gradients of every floating input, for random inputs and a random upstream gradient.
import { after, describe, it } from "node:test";
import * as F from "../../src/nn/functional.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

interface Case {
  name: string;
  /** Input name → shape (float32 randn), or a ready tensor. */
  inputs: Record<string, number[] | (() => Tensor)>;
  /** Inputs that get gradients on both sides. */
  grad?: string[];
  ours: (i: Record<string, Tensor>) => Tensor;
  /** Python computing `y` from the same names. */
  torch: string;
  rtol?: number;
  atol?: number;
}

const long = (vals: number[], shape?: number[]) => () =>
  T.fromArray(BigInt64Array.from(vals, BigInt), shape ?? [vals.length]);
const positive = (shape: number[]) => () => T.rand(shape).add(0.1);
const mask = (shape: number[]) => () => T.rand(shape).gt(0.5);

const cases: Case[] = [
  {
    name: "add broadcast",
    inputs: { a: [3, 4], b: [4] },
    grad: ["a", "b"],
    ours: (i) => i.a.add(i.b, 2),
    torch: "y = torch.add(a, b, alpha=2)",
  },
  {
    name: "sub scalar",
    inputs: { a: [3, 4] },
    grad: ["a"],
    ours: (i) => i.a.sub(1.5),
    torch: "y = a - 1.5",
  },
  {
    name: "mul broadcast",
    inputs: { a: [2, 3, 4], b: [3, 1] },
    grad: ["a", "b"],
    ours: (i) => i.a.mul(i.b),
    torch: "y = a * b",
  },
  {
    name: "div",
    inputs: { a: [5], b: positive([5]) },
    grad: ["a", "b"],
    ours: (i) => i.a.div(i.b),
    torch: "y = a / b",
  },
  {
    name: "pow scalar",
    inputs: { a: positive([6]) },
    grad: ["a"],
    ours: (i) => i.a.pow(3),
    torch: "y = a ** 3",
  },
  {
    name: "maximum",
    inputs: { a: [6], b: [6] },
    grad: ["a", "b"],
    ours: (i) => T.maximum(i.a, i.b),
    torch: "y = torch.maximum(a, b)",
  },
  {
    name: "where",
    inputs: { c: mask([4, 4]), a: [4, 4], b: [4, 4] },
    grad: ["a", "b"],
    ours: (i) => T.where(i.c, i.a, i.b),
    torch: "y = torch.where(c, a, b)",
  },
  {
    name: "maskedFill",
    inputs: { m: mask([3, 3]), a: [3, 3] },
    grad: ["a"],
    ours: (i) => i.a.maskedFill(i.m, -2),
    torch: "y = a.masked_fill(m, -2)",
  },
  {
    name: "clamp",
    inputs: { a: [10] },
    grad: ["a"],
    ours: (i) => i.a.clamp(-0.5, 0.5),
    torch: "y = a.clamp(-0.5, 0.5)",
  },
  { name: "exp", inputs: { a: [7] }, grad: ["a"], ours: (i) => i.a.exp(), torch: "y = a.exp()" },
  {
    name: "log",
    inputs: { a: positive([7]) },
    grad: ["a"],
    ours: (i) => i.a.log(),
    torch: "y = a.log()",
  },
  {
    name: "sqrt",
    inputs: { a: positive([7]) },
    grad: ["a"],
    ours: (i) => i.a.sqrt(),
    torch: "y = a.sqrt()",
  },
  { name: "tanh", inputs: { a: [7] }, grad: ["a"], ours: (i) => i.a.tanh(), torch: "y = a.tanh()" },
  {
    name: "sigmoid",
    inputs: { a: [7] },
    grad: ["a"],
    ours: (i) => F.sigmoid(i.a),
    torch: "y = torch.sigmoid(a)",
  },
  {
    name: "relu",
    inputs: { a: [7] },
    grad: ["a"],
    ours: (i) => F.relu(i.a),
    torch: "y = F.relu(a)",
  },
  {
    name: "relu6",
    inputs: { a: () => T.randn([9]).mul(5) },
    grad: ["a"],
    ours: (i) => F.relu6(i.a),
    torch: "y = F.relu6(a)",
  },
  {
    name: "gelu",
    inputs: { a: [9] },
    grad: ["a"],
    ours: (i) => F.gelu(i.a),
    torch: "y = F.gelu(a)",
  },
  {
    name: "sum dims keepdim",
    inputs: { a: [2, 3, 4] },
    grad: ["a"],
    ours: (i) => i.a.sum([0, 2], true),
    torch: "y = a.sum((0, 2), keepdim=True)",
  },
  {
    name: "mean",
    inputs: { a: [2, 3, 4] },
    grad: ["a"],
    ours: (i) => i.a.mean(1),
    torch: "y = a.mean(1)",
  },
  {
    name: "var",
    inputs: { a: [5, 6] },
    grad: ["a"],
    ours: (i) => i.a.var(0),
    torch: "y = a.var(0)",
  },
  {
    name: "std population",
    inputs: { a: [5, 6] },
    grad: ["a"],
    ours: (i) => i.a.std(1, 0),
    torch: "y = a.std(1, unbiased=False)",
  },
  {
    name: "max dim",
    inputs: { a: [4, 5] },
    grad: ["a"],
    ours: (i) => i.a.max(1)[0],
    torch: "y = a.max(1)[0]",
  },
  {
    name: "min all",
    inputs: { a: [4, 5] },
    grad: ["a"],
    ours: (i) => i.a.min(),
    torch: "y = a.min()",
  },
  { name: "argmax", inputs: { a: [4, 5] }, ours: (i) => i.a.argmax(1), torch: "y = a.argmax(1)" },
  {
    name: "topk",
    inputs: { a: [3, 8] },
    grad: ["a"],
    ours: (i) => i.a.topk(3)[0],
    torch: "y = a.topk(3)[0]",
  },
  {
    name: "logsumexp",
    inputs: { a: [3, 8] },
    grad: ["a"],
    ours: (i) => i.a.logsumexp(1),
    torch: "y = a.logsumexp(1)",
  },
  {
    name: "norm",
    inputs: { a: [3, 8] },
    grad: ["a"],
    ours: (i) => i.a.norm(2, 1),
    torch: "y = a.norm(2, dim=1)",
  },
  {
    name: "permute+reshape",
    inputs: { a: [2, 3, 4] },
    grad: ["a"],
    ours: (i) => i.a.permute(2, 0, 1).reshape(4, 6),
    torch: "y = a.permute(2, 0, 1).reshape(4, 6)",
  },
  {
    name: "transpose+contiguous",
    inputs: { a: [3, 5] },
    grad: ["a"],
    ours: (i) => i.a.transpose(0, 1).contiguous(),
    torch: "y = a.t().contiguous()",
  },
  {
    name: "cat",
    inputs: { a: [2, 3], b: [4, 3] },
    grad: ["a", "b"],
    ours: (i) => T.cat([i.a, i.b], 0),
    torch: "y = torch.cat([a, b], 0)",
  },
  {
    name: "stack",
    inputs: { a: [2, 3], b: [2, 3] },
    grad: ["a", "b"],
    ours: (i) => T.stack([i.a, i.b], 1),
    torch: "y = torch.stack([a, b], 1)",
  },
  {
    name: "split",
    inputs: { a: [7, 2] },
    grad: ["a"],
    ours: (i) => i.a.split(3)[2],
    torch: "y = a.split(3)[2]",
  },
  {
    name: "slice step",
    inputs: { a: [8, 3] },
    grad: ["a"],
    ours: (i) => i.a.index([1, 7, 2], 2),
    torch: "y = a[1:7:2, 2]",
  },
  {
    name: "advanced index",
    inputs: { a: [5, 3], idx: long([4, 0, 4]) },
    grad: ["a"],
    ours: (i) => i.a.index(i.idx),
    torch: "y = a[idx]",
  },
  {
    name: "gather",
    inputs: { a: [3, 4], idx: long([0, 3, 1, 1, 2, 0], [3, 2]) },
    grad: ["a"],
    ours: (i) => i.a.gather(1, i.idx),
    torch: "y = a.gather(1, idx)",
  },
  {
    name: "indexSelect",
    inputs: { a: [3, 4], idx: long([3, 0]) },
    grad: ["a"],
    ours: (i) => i.a.indexSelect(1, i.idx),
    torch: "y = a.index_select(1, idx)",
  },
  {
    name: "flip",
    inputs: { a: [2, 5] },
    grad: ["a"],
    ours: (i) => i.a.flip(1),
    torch: "y = a.flip(1)",
  },
  {
    name: "expand",
    inputs: { a: [3, 1] },
    grad: ["a"],
    ours: (i) => i.a.expand(3, 4).mul(1),
    torch: "y = a.expand(3, 4) * 1",
  },
  {
    name: "matmul",
    inputs: { a: [4, 5], b: [5, 3] },
    grad: ["a", "b"],
    ours: (i) => i.a.matmul(i.b),
    torch: "y = a @ b",
  },
  {
    name: "bmm",
    inputs: { a: [2, 4, 5], b: [2, 5, 3] },
    grad: ["a", "b"],
    ours: (i) => i.a.bmm(i.b),
    torch: "y = torch.bmm(a, b)",
  },
  {
    name: "linear",
    inputs: { x: [4, 6], w: [3, 6], b: [3] },
    grad: ["x", "w", "b"],
    ours: (i) => F.linear(i.x, i.w, i.b),
    torch: "y = F.linear(x, w, b)",
  },
  {
    name: "conv2d stride/pad",
    inputs: { x: [2, 3, 9, 9], w: [4, 3, 3, 3], b: [4] },
    grad: ["x", "w", "b"],
    ours: (i) => F.conv2d(i.x, i.w, i.b, { stride: 2, padding: 1 }),
    torch: "y = F.conv2d(x, w, b, stride=2, padding=1)",
    rtol: 1e-4,
    atol: 1e-5,
  },
  {
    name: "conv2d dilation",
    inputs: { x: [1, 4, 10, 10], w: [2, 4, 3, 3] },
    grad: ["x", "w"],
    ours: (i) => F.conv2d(i.x, i.w, null, { padding: 2, dilation: 2 }),
    torch: "y = F.conv2d(x, w, None, padding=2, dilation=2)",
    rtol: 1e-4,
    atol: 1e-5,
  },
  {
    name: "conv2d depthwise",
    inputs: { x: [2, 6, 8, 8], w: [6, 1, 3, 3] },
    grad: ["x", "w"],
    ours: (i) => F.conv2d(i.x, i.w, null, { padding: 1, groups: 6 }),
    torch: "y = F.conv2d(x, w, None, padding=1, groups=6)",
    rtol: 1e-4,
    atol: 1e-5,
  },
  {
    name: "batchNorm train",
    inputs: { x: [4, 3, 5, 5], w: [3], b: [3], rm: () => T.zeros([3]), rv: () => T.ones([3]) },
    grad: ["x", "w", "b"],
    ours: (i) =>
      F.batchNorm(i.x, i.rm, i.rv, { weight: i.w, bias: i.b, training: true, momentum: 0.1 })
        .add(i.rm.sum())
        .add(i.rv.sum()),
    torch: "y = F.batch_norm(x, rm, rv, w, b, True, 0.1) + rm.sum() + rv.sum()",
    rtol: 1e-4,
    atol: 1e-5,
  },
  {
    name: "batchNorm eval",
    inputs: { x: [4, 3, 5, 5], w: [3], b: [3], rm: [3], rv: positive([3]) },
    grad: ["x", "w", "b"],
    ours: (i) => F.batchNorm(i.x, i.rm, i.rv, { weight: i.w, bias: i.b, training: false }),
    torch: "y = F.batch_norm(x, rm, rv, w, b, False)",
    rtol: 1e-4,
    atol: 1e-5,
  },
  {
    name: "softmax",
    inputs: { a: [3, 6] },
    grad: ["a"],
    ours: (i) => F.softmax(i.a, 1),
    torch: "y = F.softmax(a, 1)",
  },
  {
    name: "logSoftmax",
    inputs: { a: [3, 6] },
    grad: ["a"],
    ours: (i) => F.logSoftmax(i.a, 1),
    torch: "y = F.log_softmax(a, 1)",
  },
  {
    name: "maxPool2d",
    inputs: { x: [2, 3, 9, 9] },
    grad: ["x"],
    ours: (i) => F.maxPool2d(i.x, 3, { stride: 2, padding: 1 }),
    torch: "y = F.max_pool2d(x, 3, 2, 1)",
  },
  {
    name: "avgPool2d",
    inputs: { x: [2, 3, 8, 8] },
    grad: ["x"],
    ours: (i) => F.avgPool2d(i.x, 2),
    torch: "y = F.avg_pool2d(x, 2)",
  },
  {
    name: "adaptiveAvgPool2d",
    inputs: { x: [2, 3, 7, 9] },
    grad: ["x"],
    ours: (i) => F.adaptiveAvgPool2d(i.x, [3, 2]),
    torch: "y = F.adaptive_avg_pool2d(x, (3, 2))",
  },
  {
    name: "bilinear align",
    inputs: { x: [1, 2, 5, 6] },
    grad: ["x"],
    ours: (i) => F.interpolate(i.x, { size: [9, 11], mode: "bilinear", alignCorners: true }),
    torch: "y = F.interpolate(x, size=(9, 11), mode='bilinear', align_corners=True)",
  },
  {
    name: "bilinear scale",
    inputs: { x: [1, 2, 5, 6] },
    grad: ["x"],
    ours: (i) => F.interpolate(i.x, { scaleFactor: 2, mode: "bilinear", alignCorners: false }),
    torch: "y = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)",
  },
  {
    name: "nearest",
    inputs: { x: [1, 2, 4, 4] },
    grad: ["x"],
    ours: (i) => F.interpolate(i.x, { size: [7, 5] }),
    torch: "y = F.interpolate(x, size=(7, 5), mode='nearest')",
  },
  {
    name: "gridSample",
    inputs: { x: [1, 2, 5, 5], grid: () => T.rand([1, 4, 4, 2]).mul(2).sub(1) },
    grad: ["x", "grid"],
    ours: (i) => F.gridSample(i.x, i.grid, { alignCorners: false }),
    torch: "y = F.grid_sample(x, grid, align_corners=False)",
    rtol: 1e-4,
    atol: 1e-5,
  },
  {
    name: "pad constant",
    inputs: { x: [1, 2, 3, 3] },
    grad: ["x"],
    ours: (i) => F.pad(i.x, [1, 2, 0, 1], "constant", 0.5),
    torch: "y = F.pad(x, (1, 2, 0, 1), value=0.5)",
  },
  {
    name: "pad reflect",
    inputs: { x: [1, 2, 4, 4] },
    grad: ["x"],
    ours: (i) => F.pad(i.x, [1, 1, 2, 2], "reflect"),
    torch: "y = F.pad(x, (1, 1, 2, 2), mode='reflect')",
  },
  {
    name: "crossEntropy ignore+smoothing",
    inputs: { x: [5, 4], t: long([0, 3, -100, 2, 1]) },
    grad: ["x"],
    ours: (i) => F.crossEntropy(i.x, i.t, { labelSmoothing: 0.1 }),
    torch: "y = F.cross_entropy(x, t, label_smoothing=0.1)",
  },
  {
    name: "crossEntropy 2d ignore 255",
    inputs: {
      x: [2, 3, 4, 4],
      t: () => T.randint(0, 3, [2, 4, 4]).maskedFill(T.rand([2, 4, 4]).gt(0.7), 255),
    },
    grad: ["x"],
    ours: (i) => F.crossEntropy(i.x, i.t, { ignoreIndex: 255, reduction: "sum" }),
    torch: "y = F.cross_entropy(x, t, ignore_index=255, reduction='sum')",
  },
  {
    name: "mseLoss",
    inputs: { a: [4, 6], b: [4, 6] },
    grad: ["a", "b"],
    ours: (i) => F.mseLoss(i.a, i.b),
    torch: "y = F.mse_loss(a, b)",
  },
  {
    name: "smoothL1",
    inputs: { a: [4, 6], b: [4, 6] },
    grad: ["a"],
    ours: (i) => F.smoothL1Loss(i.a, i.b, "mean", 0.5),
    torch: "y = F.smooth_l1_loss(a, b, beta=0.5)",
  },
  {
    name: "klDiv batchmean",
    inputs: { a: [4, 6], b: [4, 6] },
    grad: ["a"],
    ours: (i) => F.klDiv(F.logSoftmax(i.a, 1), F.softmax(i.b, 1), "batchmean"),
    torch: "y = F.kl_div(F.log_softmax(a, 1), F.softmax(b, 1), reduction='batchmean')",
  },
  {
    name: "bce with logits",
    inputs: { a: [4, 6], t: () => T.rand([4, 6]) },
    grad: ["a"],
    ours: (i) => F.binaryCrossEntropyWithLogits(i.a, i.t),
    torch: "y = F.binary_cross_entropy_with_logits(a, t)",
  },
];

describe("op parity with PyTorch", () => {
  const ref = new TorchRef();
  after(() => ref.close());
  let seed = 1;
  for (const c of cases) {
    it(c.name, async () => {
      T.manualSeed(seed++);
      const inputs: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(c.inputs))
        inputs[k] = typeof v === "function" ? v() : T.randn(v);
      const grads = c.grad ?? [];
      // Clones go to PyTorch: our in-place ops (batch-norm statistics) must not leak into its inputs.
      const sent = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.clone()]));
      for (const k of grads) inputs[k].requiresGrad_(true);
      const y = c.ours(inputs);
      let g: Tensor | null = null;
      if (grads.length) {
        g = T.randnLike(y);
        y.backward(g);
      }
      const code = `${c.torch}\n${g ? "y.backward(g)" : ""}`;
      const outs = await ref.run(
        code,
        g ? { ...sent, g } : sent,
        ["y", ...grads.map((k) => `${k}.grad`)],
        grads,
      );
      const rtol = c.rtol ?? 1e-5;
      const atol = c.atol ?? 1e-6;
      assertClose(y.detach(), outs[0], `${c.name} forward`, rtol, atol);
      grads.forEach((k, j) => {
        assertClose(inputs[k].grad!, outs[j + 1], `${c.name} grad of ${k}`, rtol, atol);
      });
    });
  }

  it("dropout draws the same mask as PyTorch from the same seed", async () => {
    const x = T.ones([4, 50]);
    T.manualSeed(123);
    const ours = F.dropout(x, 0.3, true);
    const ours2d = F.dropout2d(T.ones([2, 8, 3, 3]), 0.5, true);
    const [theirs, theirs2d] = await ref.run(
      "torch.manual_seed(123); y = F.dropout(x, 0.3, True); z = F.dropout2d(torch.ones(2, 8, 3, 3), 0.5, True)",
      { x },
      ["y", "z"],
    );
    assertClose(ours, theirs, "dropout");
    assertClose(ours2d, theirs2d, "dropout2d");
  });

  it("random creation matches torch with the same seed", async () => {
    T.manualSeed(7);
    const mine = [T.randn([5]), T.rand([5]), T.randint(0, 10, [5]), T.randperm(6)];
    const theirs = await ref.run(
      "torch.manual_seed(7); a = torch.randn(5); b = torch.rand(5); c = torch.randint(0, 10, (5,)); d = torch.randperm(6)",
      {},
      ["a", "b", "c", "d"],
    );
    mine.forEach((m, i) => {
      assertClose(m, theirs[i], `draw ${i}`, 0, 0);
    });
  });

  it("eigh and svd in float64 match torch.linalg (up to eigenvector sign)", async () => {
    T.manualSeed(3);
    const a = T.randn([6, 4], { dtype: "float64" });
    const s = a.t().matmul(a);
    const { eigenvalues, eigenvectors } = T.eigh(s);
    const { S, Vh } = T.svd(a);
    const [ev, evec, sv, vh] = await ref.run(
      "w, v = torch.linalg.eigh(s); u, sv, vh = torch.linalg.svd(a, full_matrices=False)",
      { a, s },
      ["w", "v", "sv", "vh"],
    );
    assertClose(eigenvalues, ev, "eigenvalues", 1e-10, 1e-10);
    assertClose(S, sv, "singular values", 1e-10, 1e-10);
    // Columns (eigenvectors) and rows (Vh) agree up to sign: |<ours, theirs>| = 1.
    assertClose(
      eigenvectors.mul(evec).sum(0).abs(),
      T.ones([4], { dtype: "float64" }),
      "eigenvector alignment",
      1e-8,
      1e-8,
    );
    assertClose(
      Vh.mul(vh).sum(1).abs(),
      T.ones([4], { dtype: "float64" }),
      "singular vector alignment",
      1e-8,
      1e-8,
    );
  });
});
