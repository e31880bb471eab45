// `kdep --help | head -1`: the reader closes the pipe early. kdep must end normally,
// without an unhandled EPIPE stack trace.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startCli } from "../helpers/cli.js";

describe("kdep writing to a closed pipe", () => {
  it("exits 0 with no EPIPE error when stdout's reader goes away", async () => {
    const run = startCli(["distill", "--help"]);
    run.child.stdout?.destroy();
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
  });
});
