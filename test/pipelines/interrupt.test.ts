// StopSignal in its own process: the first SIGINT/SIGTERM asks to stop, a second one quits
// at once with the shell's code for that signal.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { waitFor } from "../helpers/cli.js";

const INTERRUPT = fileURLToPath(
  new URL("../../src/pipelines/common/interrupt.js", import.meta.url),
);

// A stand-in for a run waiting on something slow (validation, a loader): it polls the
// signal state and reports the first request.
const CHILD = `
const { StopSignal } = await import(${JSON.stringify(INTERRUPT)});
const stop = new StopSignal();
process.stdout.write("ready\\n");
const poll = setInterval(() => {
  if (stop.requested) { process.stdout.write("requested\\n"); clearInterval(poll); }
}, 5);
setTimeout(() => { stop.dispose(); process.exit(0); }, 20000);
`;

describe("StopSignal", () => {
  for (const [sig, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`the first ${sig} asks to stop; a second one exits with ${code}`, async () => {
      const p = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => {
        out += d;
      });
      p.stderr.on("data", (d) => {
        err += d;
      });
      const done = new Promise<number | null>((resolve) => p.on("close", (c) => resolve(c)));
      await waitFor(() => out.includes("ready"), "the child", { timeoutMs: 10_000 });
      p.kill(sig);
      await waitFor(() => out.includes("requested"), "the stop request", { timeoutMs: 10_000 });
      assert.match(err, new RegExp(`${sig} received: finishing this step`));
      p.kill(sig);
      assert.equal(await done, code);
    });
  }
});
