// The safe unpickler: every protocol Python writes, numpy payloads, refusal of code-running
// globals, and clear errors (never a hang) on damaged input.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadCheckpoint, readPickle } from "../../src/io/index.js";
import { unpickle } from "../../src/io/pickle/unpickler.js";
import { PickleWriter, pickleValue } from "../../src/io/pickle/writer.js";
import { pthBytes, readPth } from "../../src/io/pth.js";
import { writeZip } from "../../src/io/zip.js";
import { requirePython, runPythonFile } from "../helpers/python.js";
import { canon, fixture } from "./canon.js";

requirePython("numpy");
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));

describe("unpickler against Python's pickle", () => {
  let dir = "";
  let expected: Record<string, unknown> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kdep-pkl-"));
    runPythonFile(fixture("make_pickles.py"), [dir]);
    expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const p of [0, 1, 2, 3, 4, 5]) {
    test(`reads protocol ${p}`, () => {
      const name = `proto${p}.pkl`;
      assert.deepEqual(canon(readPickle(join(dir, name))), expected[name]);
    });
  }

  for (const p of [2, 4]) {
    test(`reads numpy arrays and scalars (protocol ${p}, Fortran order, big-endian)`, () => {
      const name = `numpy${p}.pkl`;
      assert.deepEqual(canon(readPickle(join(dir, name))), expected[name]);
    });
  }

  for (const p of [0, 2, 4]) {
    test(`refuses a pickle that calls os.system (protocol ${p}) and runs nothing`, () => {
      const file = join(dir, `attack${p}.pkl`);
      assert.throws(
        () => readPickle(file),
        (e: Error) => {
          assert.match(e.message, /refusing pickle global posix\.system/);
          assert.ok(e.message.includes(file), "error names the file");
          return true;
        },
      );
      assert.throws(() => loadCheckpoint(file), /posix\.system/);
      assert.equal(existsSync(join(dir, "PWNED")), false);
    });
  }
});

describe("unpickler safety and errors", () => {
  const marker = join(tmpdir(), `kdep-marker-${process.pid}`);

  test("refuses GLOBAL os.system with REDUCE, in a bare pickle and inside a .pth", () => {
    const evil = ascii(`cos\nsystem\n(S'touch ${marker}'\ntR.`);
    assert.throws(() => unpickle(evil, { source: "evil.pkl" }), /evil\.pkl.*os\.system/);
    const zip = writeZip([
      { name: "archive/data.pkl", data: evil },
      { name: "archive/version", data: ascii("3\n") },
    ]);
    assert.throws(() => readPth(zip, "evil.pth"), /evil\.pth.*os\.system/);
    assert.equal(existsSync(marker), false);
  });

  test("refuses other non-allow-listed globals by name", () => {
    for (const [mod, name] of [
      ["builtins", "eval"],
      ["argparse", "Namespace"],
      ["subprocess", "Popen"],
      ["torch", "load"],
    ]) {
      const p = ascii(`c${mod}\n${name}\n)R.`);
      assert.throws(() => unpickle(p, { source: "x.pkl" }), new RegExp(`${mod}\\.${name}`));
    }
  });

  test("reports unknown opcodes with their offset, and truncation", () => {
    assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0xff]), { source: "bad.pkl" }), {
      message: /bad\.pkl: unknown pickle opcode 0xff \(pickle opcode at offset 2\)/,
    });
    const good = pickleValue({ a: [1, 2, "three"], b: 2.5 });
    for (let cut = 0; cut < good.length - 1; cut++) {
      assert.throws(() => unpickle(good.subarray(0, cut), { source: "cut.pkl" }), /cut\.pkl/);
    }
  });

  test("random corruption ends in an Error, never a crash or hang", () => {
    const good = pthBytes({
      w: { dtype: "float32", shape: [2, 2], data: new Uint8Array(16) },
      meta: new Map<unknown, unknown>([["x", [1, 2.5, "s"]]]),
    });
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const want = canon(readPth(good, "good.pth"));
    let readBack = 0;
    for (let i = 0; i < 400; i++) {
      const bad = Uint8Array.from(good);
      for (let k = 0; k < 1 + (i % 4); k++) bad[rand() % bad.length] = rand() & 0xff;
      let got: unknown;
      let error: unknown = null;
      try {
        got = readPth(bad, "fuzz.pth");
      } catch (e) {
        error = e;
      }
      if (error === null) {
        // Only bytes nothing reads (padding, timestamps) were hit: the value is intact.
        assert.deepEqual(canon(got), want, `corruption ${i} read back different values`);
        readBack++;
      } else {
        assert.ok(error instanceof Error, `corruption ${i} threw a non-Error`);
        assert.match(error.message, /^fuzz\.pth/);
      }
    }
    assert.ok(readBack < 400, "some corruptions must be detected");
  });

  test("a storage shorter than its tensor's extent is an error naming the storage", () => {
    const good = pthBytes({ w: { dtype: "float32", shape: [4], data: new Uint8Array(16) } });
    // Rewrite the archive with a 2-element storage under the same pickle.
    const pkl = unpickleRaw(good, "archive/data.pkl");
    const zip = writeZip([
      { name: "archive/data.pkl", data: pkl },
      { name: "archive/data/0", data: new Uint8Array(8) },
      { name: "archive/version", data: ascii("3\n") },
    ]);
    assert.throws(
      () => readPth(zip, "short.pth"),
      /short\.pth: storage archive\/data\/0 has 8 bytes, expected 16/,
    );
    // A storage of 2 elements viewed as 4: the extent check names storage and view.
    const w = new PickleWriter(() => {});
    w.proto().global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(2);
    w.tupleFromMark().binpersid().int(0).tuple([4]).tuple([1]).value(false).value(null);
    const over = writeZip([
      { name: "archive/data.pkl", data: w.tupleFromMark().reduce().stop() },
      { name: "archive/data/0", data: new Uint8Array(8) },
    ]);
    assert.throws(
      () => readPth(over, "over.pth"),
      /over\.pth: storage 0 holds 2 float32 elements but a tensor of shape \[4\] at offset 0 with strides \[1\] needs element 3/,
    );
    const noPkl = writeZip([{ name: "archive/version", data: ascii("3\n") }]);
    assert.throws(
      () => readPth(noPkl, "nopkl.pth"),
      /nopkl\.pth: zip archive has no archive\/data\.pkl/,
    );
    assert.throws(
      () => readPth(good.subarray(0, good.length - 30), "trunc.pth"),
      /trunc\.pth: not a readable zip/,
    );
    // One flipped byte inside a tensor's data is caught by the entry's CRC-32.
    const marked = pthBytes({ w: { dtype: "uint8", shape: [8], data: ascii("KDEPDATA") } });
    const flipped = Buffer.from(marked);
    flipped[flipped.indexOf("KDEPDATA") + 3] ^= 1;
    assert.throws(
      () => readPth(flipped, "flip.pth"),
      /flip\.pth: zip entry archive\/data\/0 fails its CRC check/,
    );
    assert.throws(() => readPth(ascii("hello"), "text.pth"), /text\.pth: not a PyTorch checkpoint/);
  });

  test("a file that is not there is an error naming it", () => {
    assert.throws(() => loadCheckpoint("/nonexistent/kdep.pth"), /\/nonexistent\/kdep\.pth/);
    writeFileSync(marker + ".txt", "plain text");
    assert.throws(() => loadCheckpoint(marker + ".txt"), /unrecognised checkpoint format/);
    rmSync(marker + ".txt");
  });
});

/** Pulls one entry out of a zip we wrote (stored entries), via the reader under test. */
function unpickleRaw(zip: Uint8Array, name: string): Uint8Array {
  // readZip is exercised elsewhere; here a tiny local-header walk keeps the test independent.
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let off = 0;
  while (v.getUint32(off, true) === 0x04034b50) {
    const size = v.getUint32(off + 18, true);
    const n = v.getUint16(off + 26, true);
    const e = v.getUint16(off + 28, true);
    const entry = Buffer.from(zip.subarray(off + 30, off + 30 + n)).toString();
    const start = off + 30 + n + e;
    if (entry === name) return zip.subarray(start, start + size);
    off = start + size;
  }
  throw new Error(`no ${name}`);
}
