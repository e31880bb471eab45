// One parity helper for every test that compares with PyTorch: a persistent Python process
// (Debian's python3-torch) runs snippets on tensors we send and returns tensors.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type DType, fromArray, getNumThreads, type Tensor } from "../../src/tensor/index.js";

import { PYTHON } from "./python.js";

export { PYTHON };

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

export interface TorchRefOptions {
  /** Longest one request may take before it fails (default 5 minutes). */
  timeoutMs?: number;
  /** Interpreter and argv (tests of this helper use it to start a broken reference). */
  command?: [string, ...string[]];
}

interface Waiter {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

export class TorchRef {
  #proc: ChildProcessWithoutNullStreams;
  #lines: Interface;
  #pending: Waiter[] = [];
  #stderr = "";
  #dead: Error | null = null;
  readonly #timeoutMs: number;

  constructor(opts: TorchRefOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 300_000;
    // The same thread count as ours: reductions split differently across threads, and a
    // long one (a conv's weight gradient) can then differ by more than the tests' tolerance.
    const threads = process.env.KDEP_REF_THREADS ?? String(getNumThreads());
    const [cmd, ...args] = opts.command ?? [PYTHON, SCRIPT];
    this.#proc = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, KDEP_REF_THREADS: threads },
    });
    this.#proc.stderr.on("data", (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000);
      process.stderr.write(d);
    });
    // A reference that cannot start or dies fails every request now and later, never hangs.
    const die = (why: string) => {
      this.#dead ??= new Error(`PyTorch reference (${cmd}) ${why}\n${this.#stderr}`);
      for (const w of this.#pending.splice(0)) w.reject(this.#dead);
    };
    this.#proc.on("error", (e) => die(`could not run: ${e.message}`));
    this.#proc.on("close", (code, signal) => die(`exited (${signal ?? `code ${code}`})`));
    this.#proc.stdin.on("error", () => {}); // EPIPE after exit; reported through "exit"
    this.#lines = createInterface({ input: this.#proc.stdout });
    this.#lines.on("line", (l) => this.#pending.shift()?.resolve(l));
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
    const line = await new Promise<string>((resolve, reject) => {
      if (this.#dead) return reject(this.#dead);
      const timer = setTimeout(() => {
        const msg = `PyTorch reference gave no answer in ${this.#timeoutMs} ms`;
        reject(new Error(msg));
        this.#dead = new Error(`${msg} (and was stopped)`);
        this.#proc.kill("SIGKILL");
      }, this.#timeoutMs);
      const done =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          f(v);
        };
      this.#pending.push({ resolve: done(resolve), reject: done(reject) });
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
    // Inf − Inf is NaN, which no tolerance test catches: infinities must match exactly.
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) {
      if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
        worst = i;
        break;
      }
      continue;
    }
    const excess = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${a[worst]}, PyTorch has ${b[worst]} (rtol ${rtol}, atol ${atol}, shape [${actual.shape}])`,
    );
  }
}
