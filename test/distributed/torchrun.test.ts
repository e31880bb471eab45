// Under torchrun (--no_python, its agent store): the ranks join as store clients under
// torchrun's prefix and train exactly as ranks started with the same variables by hand.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/distributed/launch.js";
import { PYTHON } from "../helpers/python.js";
import { type ChildArgs, runJob, studentDistance } from "./ranks.js";

const TORCHRUN = fileURLToPath(new URL("../../../scripts/torchrun.py", import.meta.url));
const CHILD = fileURLToPath(new URL("./fixtures/ddpChild.js", import.meta.url));

function torchrun(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [TORCHRUN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, KDEP_NUM_THREADS: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("torchrun --no_python", () => {
  it("joins torchrun's agent store and trains as a hand-started job does", async () => {
    const root = mkdtempSync(join(tmpdir(), "kdep-torchrun-"));
    const args: ChildArgs = {
      out: join(root, "torchrun"),
      epochs: 1,
      batchSize: 16,
      syncBn: true,
      perClass: 4,
      lr: 0.002,
      noise: true,
    };
    const port = String(await freePort());
    const r = await torchrun([
      ...["--nproc_per_node", "2", "--master_port", port, "--no_python"],
      ...[process.execPath, CHILD, JSON.stringify(args)],
    ]);
    assert.equal(r.code, 0, r.out);
    for (const rank of [0, 1])
      assert.match(r.out, new RegExp(`rank ${rank} done \\(store prefix /worker/attempt_0\\)`));

    const byHand = join(root, "by-hand");
    for (const x of await runJob({ ...args, out: byHand }, 2)) assert.equal(x.code, 0, x.stderr);
    const d = studentDistance(args.out, byHand);
    assert.equal(d.worst, 0, `${d.key} differs by ${d.worst}`);
  });
});
