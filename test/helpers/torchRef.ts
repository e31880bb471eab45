// One parity helper for every test that compares with PyTorch: a persistent Python process
// (Debian's python3-torch) runs snippets on tensors we send and returns tensors.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type DType, fromArray, getNumThreads, type Tensor } from "../../src/tensor/index.js";

export const PYTHON = process.env.KDEP_PYTHON ?? "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../../test/helpers/torch_ref.py", import.meta.url));

export interface Wire {
  dtype: DType;
  shape: number[];
  b64: string;
}

export function toWire(t: Tensor): Wire {
  return { dtype: t.dtype, shape: t.shape, b64: Buffer.from(t.toBytes()).toString("base64") };
}

export function fromWire(w: Wire): Tensor {
  const buf = Buffer.from(w.b64, "base64");
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return fromArray(bytes, w.shape, { dtype: w.dtype });
}

export class TorchRef {
  #proc: ChildProcessWithoutNullStreams;
  #lines: Interface;
  #pending: ((line: string) => void)[] = [];

  constructor() {
    // The same thread count as ours: reductions split differently across threads, and a
    // long one (a conv's weight gradient) can then differ by more than the tests' tolerance.
    const threads = process.env.KDEP_REF_THREADS ?? String(getNumThreads());
    this.#proc = spawn(PYTHON, [SCRIPT], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, KDEP_REF_THREADS: threads },
    });
    this.#proc.stderr.on("data", (d) => process.stderr.write(d));
    this.#lines = createInterface({ input: this.#proc.stdout });
    this.#lines.on("line", (l) => this.#pending.shift()?.(l));
  }

  /**
   * Runs `code` with the given tensors bound by name (those in requiresGrad get
   * requires_grad) and returns the tensors named by the `outputs` expressions.
   */
  async run(
    code: string,
    inputs: Record<string, Tensor>,
    outputs: string[],
    requiresGrad: string[] = [],
  ): Promise<Tensor[]> {
    const req = {
      code,
      outputs,
      requiresGrad,
      inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toWire(t)])),
    };
    const line = await new Promise<string>((resolve) => {
      this.#pending.push(resolve);
      this.#proc.stdin.write(`${JSON.stringify(req)}\n`);
    });
    const res = JSON.parse(line) as { outputs?: Wire[]; error?: string };
    if (res.error) throw new Error(`PyTorch reference failed:\n${res.error}`);
    return (res.outputs ?? []).map(fromWire);
  }

  close(): void {
    this.#proc.stdin.end();
    this.#lines.close();
  }
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the worst element on failure. */
export function assertClose(
  actual: Tensor,
  expected: Tensor,
  what: string,
  rtol = 1e-5,
  atol = 1e-6,
): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.to("float64").toTypedArray() as Float64Array;
  const b = expected.to("float64").toTypedArray() as Float64Array;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (excess > worstExcess || Number.isNaN(a[i]) !== Number.isNaN(b[i])) {
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${a[worst]}, PyTorch has ${b[worst]} (rtol ${rtol}, atol ${atol}, shape [${actual.shape}])`,
    );
  }
}
