// The PyTorch-comparison helper itself must not pass by accident: infinities compare
// exactly, and a reference that hangs, dies or cannot start fails the test instead of
// hanging the suite.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as T from "../../src/tensor/index.js";
import { assertClose, TorchRef } from "../helpers/torchRef.js";

const t = (...xs: number[]) => T.fromArray(Float32Array.from(xs));

test("assertClose: ±Inf must match exactly, NaN only NaN", () => {
  const inf = Number.POSITIVE_INFINITY;
  assertClose(t(inf, -inf, Number.NaN, 1), t(inf, -inf, Number.NaN, 1), "same");
  assert.throws(
    () => assertClose(t(1), t(inf), "finite vs inf"),
    /element 0 is 1, PyTorch has Infinity/,
  );
  assert.throws(() => assertClose(t(-inf), t(inf), "-inf vs inf"), /element 0/);
  assert.throws(() => assertClose(t(inf), t(1), "inf vs finite"), /element 0/);
  assert.throws(() => assertClose(t(Number.NaN), t(inf), "nan vs inf"), /element 0/);
  assert.throws(() => assertClose(t(1, Number.NaN), t(1, 2), "nan vs finite"), /element 1/);
});

test("a reference that never answers times out", async () => {
  const ref = new TorchRef({ command: ["sleep", "30"], timeoutMs: 300 });
  await assert.rejects(ref.run("y = x", { x: t(1) }, ["y"]), /no answer in 300 ms/);
  // Later requests fail at once rather than queueing behind the dead process.
  await assert.rejects(ref.run("y = x", { x: t(1) }, ["y"]), /no answer/);
  ref.close();
});

test("a reference that exits or cannot start fails the request, quoting its stderr", async () => {
  const dying = new TorchRef({ command: ["sh", "-c", "echo broken reference >&2; exit 3"] });
  await assert.rejects(
    dying.run("y = x", { x: t(1) }, ["y"]),
    /exited \(code 3\)\n.*broken reference/s,
  );
  dying.close();
  const missing = new TorchRef({ command: ["/nonexistent/python3"] });
  await assert.rejects(missing.run("y = x", { x: t(1) }, ["y"]), /could not run: .*ENOENT/);
  missing.close();
});
