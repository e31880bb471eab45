// Moves whole state dicts (and gradient dicts) from the PyTorch reference process to here.
// Base64 JSON through torchRef would carry resnet152's 240 MB as a 320 MB line; instead the
// Python side writes the raw bytes of an ordered {name: tensor} dict to a temporary file
// and returns the [name, dtype, shape] list as a JSON-encoded uint8 tensor.
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DType } from "../../src/tensor/dtype.js";
import { fromArray, ITEM_SIZE, noGrad, type Tensor } from "../../src/tensor/index.js";
import { assertClose, type TorchRef } from "../helpers/torchRef.js";

let counter = 0;

/** Python helpers every request can use: seeded builders, BN randomisation, dict dumps. */
export const PRELUDE = `
import json as _json, types as _types
import torchvision
def _dump(d, path):
    meta = []
    with open(path, "wb") as f:
        for k, v in d.items():
            v = v.detach().contiguous().cpu()
            meta.append([k, str(v.dtype).replace("torch.", ""), list(v.shape)])
            f.write(v.numpy().tobytes())
    return torch.tensor(list(_json.dumps(meta).encode()), dtype=torch.uint8)
def randomize_bn(m):
    # Non-trivial affine and running statistics, so loading them is actually tested.
    for b in m.modules():
        if isinstance(b, nn.BatchNorm2d):
            with torch.no_grad():
                b.weight.uniform_(0.5, 1.5); b.bias.normal_(0, 0.1)
                b.running_mean.normal_(0, 0.1); b.running_var.uniform_(0.5, 1.5)
    return m
def grads(m):
    return {k: p.grad for k, p in m.named_parameters()}
def sd_copy(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}
`;

export interface RefResult {
  /** One ordered map per dict expression. */
  dicts: Map<string, Tensor>[];
  outputs: Tensor[];
}

/**
 * Runs PRELUDE + code with `inputs` bound, then returns each expression of `dicts` (a Python
 * ordered {name: tensor}) as a Map in the same order, and the tensors named by `outputs`.
 */
export async function runWithDicts(
  ref: TorchRef,
  code: string,
  inputs: Record<string, Tensor>,
  dicts: string[],
  outputs: string[] = [],
): Promise<RefResult> {
  const paths = dicts.map(() => join(tmpdir(), `kdep-ref-${process.pid}-${counter++}.bin`));
  const dumps = dicts
    .map((d, i) => `_meta${i} = _dump(${d}, ${JSON.stringify(paths[i])})`)
    .join("\n");
  const res = await ref.run(`${PRELUDE}\n${code}\n${dumps}\n`, inputs, [
    ...outputs,
    ...dicts.map((_, i) => `_meta${i}`),
  ]);
  const metas = res.slice(outputs.length);
  const out = metas.map((m, i) => {
    const meta = JSON.parse(Buffer.from(m.toBytes()).toString("utf8")) as [
      string,
      DType,
      number[],
    ][];
    const bytes = readFileSync(paths[i]);
    rmSync(paths[i]);
    const map = new Map<string, Tensor>();
    let off = 0;
    for (const [k, dtype, shape] of meta) {
      const n = shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype];
      map.set(k, fromArray(bytes.subarray(off, off + n), shape, { dtype }));
      off += n;
    }
    return map;
  });
  return { dicts: out, outputs: res.slice(0, outputs.length) };
}

/** Relative error scaled by the largest reference magnitude: deep random nets produce
 * outputs spanning orders of magnitude, and an element near zero says nothing. */
export function assertRel(a: Tensor, b: Tensor, what: string, rel = 1e-5): void {
  const scale = noGrad(() => b.abs().max().item());
  assertClose(a, b, what, rel, rel * Math.max(scale, 1e-12));
}
