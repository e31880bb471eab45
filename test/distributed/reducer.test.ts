// Both gradient reducers average each rank's gradients over the ranks, also when a step
// accumulates several backward passes (micro-batches), with buckets filled and reduced
// in the same order on every rank.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/distributed/launch.js";

const CHILD = fileURLToPath(new URL("./fixtures/reducerChild.js", import.meta.url));

function rank(r: number, port: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        KDEP_NUM_THREADS: "1",
        RANK: String(r),
        WORLD_SIZE: "2",
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(port),
      },
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

describe("gradient reducers", () => {
  it("average over the ranks after and during backward, across accumulated passes", async () => {
    const port = await freePort();
    const runs = await Promise.all([rank(0, port), rank(1, port)]);
    for (const r of runs) {
      assert.equal(r.code, 0, r.out);
      const o = JSON.parse(r.out.trim().split("\n").pop() ?? "{}");
      assert.ok(o.buckets > 2, `${o.buckets} buckets`);
      assert.equal(o.bytes, 4 * o.numel, "every gradient all-reduced once per backward");
      assert.ok(o.afterDiff <= 1e-6 * o.scale, `after backward: ${o.afterDiff} (scale ${o.scale})`);
      assert.ok(
        o.overlapDiff <= 1e-6 * o.scale,
        `during backward: ${o.overlapDiff} (scale ${o.scale})`,
      );
    }
  });
});
