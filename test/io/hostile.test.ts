// Crafted checkpoints cost nothing: a zip entry that inflates past its declared size, a
// view that repeats a 4-byte storage into gigabytes, an unreferenced huge entry, deep
// nesting and giant names all end in a short error naming the file, and loading any of them
// stays within a small memory bound (VmHWM of a child process, against a genuine file).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as zlib from "node:zlib";
import { createDeflateRaw, deflateRawSync } from "node:zlib";
import { PickleWriter } from "../../src/io/pickle/writer.js";
import { pthBytes, readPth } from "../../src/io/pth.js";
import type { RawTensor } from "../../src/io/rawTensor.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { writeZip } from "../../src/io/zip.js";
import { crc32 } from "../../src/io/zipReader.js";
import { runPythonJson } from "../helpers/python.js";
import { canon } from "./canon.js";
import { type CraftEntry, craftZip } from "./zipCraft.js";

const MiB = 1024 * 1024;
const HIDDEN = 128 * MiB;
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));
const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

/** The entries of a genuine small checkpoint {w: float32[4]}: pickle, storage, version. */
function genuineEntries(): CraftEntry[] {
  const pkl = pthPickle({ w: { dtype: "float32", shape: [4], data: f32(1, 2, 3, 4) } });
  return [
    { name: "archive/data.pkl", payload: pkl },
    { name: "archive/data/0", payload: f32(1, 2, 3, 4) },
    { name: "archive/version", payload: ascii("3\n") },
  ];
}

/** The data.pkl of pthBytes(value) (pthBytes writes it first, stored). */
function pthPickle(value: unknown): Uint8Array {
  const zip = pthBytes(value);
  const v = new DataView(zip.buffer, zip.byteOffset);
  const n = v.getUint16(26, true);
  const start = 30 + n + v.getUint16(28, true);
  return zip.subarray(start, start + v.getUint32(18, true));
}

/** A checkpoint {w: view} whose view has the given shape and strides over a float storage
 *  of `elements` elements. */
function viewPth(shape: number[], strides: number[], elements: number): Uint8Array {
  const w = new PickleWriter((_t: RawTensor, w) => {
    w.global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(elements);
    w.tupleFromMark().binpersid().int(0).tuple(shape).tuple(strides).value(false).value(null);
    w.tupleFromMark().reduce();
  });
  const marker: RawTensor = { dtype: "float32", shape, data: new Uint8Array(0) };
  const pkl = w
    .proto()
    .value(new Map([["w", marker]]))
    .stop();
  return writeZip([
    { name: "archive/data.pkl", data: pkl },
    { name: "archive/data/0", data: new Uint8Array(elements * 4) },
  ]);
}

/** Raw deflate of `n` zero bytes, streamed so the test never holds them. */
async function deflatedZeros(n: number): Promise<Uint8Array> {
  const z = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((ok) => z.on("end", ok));
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < n / MiB; i++) z.write(chunk);
  z.end();
  await done;
  return Buffer.concat(out);
}

/** CRC-32 of `n` zero bytes, computed a MiB at a time. */
function zerosCrc(n: number): number {
  const chunk = Buffer.alloc(MiB);
  let c = 0;
  for (let i = 0; i < n / MiB; i++) c = zlib.crc32(chunk, c);
  return c >>> 0;
}

describe("hostile checkpoints", () => {
  let dir = "";
  const files: Record<string, string> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "kdep-hostile-"));
    const zeros = await deflatedZeros(HIDDEN);
    const put = (name: string, bytes: Uint8Array) => {
      files[name] = join(dir, name);
      writeFileSync(files[name], bytes);
    };
    put("genuine.pth", craftZip(genuineEntries()));
    // The storage entry declares 16 bytes (and their CRC) but inflates to 128 MiB.
    const bomb = genuineEntries();
    bomb[1] = { ...bomb[1], payload: zeros, method: 8, size: 16, crc: crc32(new Uint8Array(16)) };
    put("bomb.pth", craftZip(bomb));
    // An honestly declared 128 MiB entry that no tensor references.
    put(
      "unused.pth",
      craftZip([
        ...genuineEntries(),
        { name: "archive/data/99", payload: zeros, method: 8, size: HIDDEN, crc: zerosCrc(HIDDEN) },
      ]),
    );
    put("repeat.pth", viewPth([16384, 16384], [0, 0], 1));
    put("repeat-huge.pth", viewPth([65536, 65536], [0, 0], 1));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("an entry that inflates past its declared size fails at once, naming it", () => {
    assert.throws(() => readPth(files["bomb.pth"]), {
      message: `${files["bomb.pth"]}: zip entry archive/data/0 inflates past its declared size of 16 bytes`,
    });
  });

  test("a deflated entry is CRC-checked over exactly the bytes it produced", () => {
    const e = genuineEntries();
    const good = f32(1, 2, 3, 4);
    e[1] = { ...e[1], payload: deflateRawSync(good), method: 8, size: 16, crc: crc32(good) };
    assert.deepEqual(
      canon(readPth(craftZip(e), "deflated.pth")),
      canon(new Map([["w", { dtype: "float32", shape: [4], data: good }]])),
    );
    e[1] = { ...e[1], crc: (crc32(good) ^ 1) >>> 0 };
    assert.throws(
      () => readPth(craftZip(e), "crc.pth"),
      /crc\.pth: zip entry archive\/data\/0 fails its CRC check/,
    );
  });

  test("entries no tensor references are never inflated", () => {
    const sd = readPth(files["unused.pth"]) as Map<string, RawTensor>;
    assert.deepEqual([...(sd.get("w") as RawTensor).data], [...f32(1, 2, 3, 4)]);
  });

  test("a view that repeats its storage into gigabytes is refused, naming file and tensor", () => {
    for (const name of ["repeat.pth", "repeat-huge.pth"]) {
      assert.throws(
        () => readPth(files[name]),
        (e: Error) => {
          assert.ok(e.message.startsWith(`${files[name]}: tensor w (float32[`), e.message);
          assert.match(e.message, /repeats the 4 bytes of storage 0/);
          assert.doesNotMatch(e.message, /Invalid typed array length/);
          return true;
        },
      );
    }
    // A small broadcast view (as torch.save writes an expand()ed tensor) still loads.
    const sd = readPth(viewPth([3, 2], [0, 1], 2), "expand.pth") as Map<string, RawTensor>;
    assert.deepEqual((sd.get("w") as RawTensor).shape, [3, 2]);
  });

  test("a numpy dtype of a deeply nested argument is an error naming the file", () => {
    const depth = 200_000;
    const body = new Uint8Array(depth * 2);
    body.fill(0x5d, 0, depth); // EMPTY_LIST × depth
    body.fill(0x61, depth, 2 * depth - 1); // APPEND × (depth − 1): lists nested depth deep
    const pkl = Buffer.concat([
      Buffer.from([0x80, 2]),
      Buffer.from("cnumpy\ndtype\n", "latin1"),
      body.subarray(0, 2 * depth - 1),
      Buffer.from([0x85, 0x52, 0x2e]), // TUPLE1 REDUCE STOP
    ]);
    const zip = writeZip([{ name: "archive/data.pkl", data: pkl }]);
    assert.throws(
      () => readPth(zip, "deep.pth"),
      (e: Error) => {
        assert.match(e.message, /^deep\.pth/);
        assert.doesNotMatch(e.message, /call stack/);
        return true;
      },
    );
  });

  test("a pickle global with an 8 MiB name is refused with a short message", () => {
    const pkl = Buffer.concat([ascii(`cos\n${"x".repeat(8 * MiB)}\n`), ascii(")R.")]);
    const zip = writeZip([{ name: "archive/data.pkl", data: pkl }]);
    assert.throws(
      () => readPth(zip, "name.pth"),
      (e: Error) => {
        assert.match(
          e.message,
          /^name\.pth.*refusing pickle global os\.x+… \(8388611 characters\)/,
        );
        assert.ok(e.message.length < 400, `${e.message.length} characters`);
        return true;
      },
    );
  });

  test("peak memory of loading each hostile file stays near that of a genuine one", () => {
    const hwm = (file: string) => peakKiB(file);
    const base = hwm(files["genuine.pth"]);
    assert.equal(base.error, null);
    for (const name of ["bomb.pth", "unused.pth", "repeat.pth", "repeat-huge.pth"]) {
      const r = hwm(files[name]);
      assert.equal(r.error !== null, name !== "unused.pth", `${name}: ${r.error}`);
      console.log(`${name}: VmHWM ${r.kib} KiB, a genuine file ${base.kib} KiB`);
      // The reader's own allowance for views is 16 MiB; 40 MiB over a genuine load means
      // something was inflated or materialised that the file's tensors do not need.
      assert.ok(r.kib - base.kib < 40 * 1024, `${name}: VmHWM ${r.kib} KiB vs ${base.kib} KiB`);
    }
  });
});

const PTH_JS = fileURLToPath(new URL("../../src/io/pth.js", import.meta.url));

/** Loads `file` in a fresh Node and returns its peak resident memory (VmHWM) and error. */
function peakKiB(file: string): { kib: number; error: string | null } {
  const script = `
    import { readFileSync } from "node:fs";
    const { readPth } = await import(${JSON.stringify(PTH_JS)});
    let error = null;
    try { readPth(process.argv[1]); } catch (e) { error = e.message; }
    const kib = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
    console.log(JSON.stringify({ kib, error }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, file], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim());
}

describe("hostile safetensors", () => {
  const file = (header: unknown, data: Uint8Array) => {
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, data]);
  };

  test("keys that name the same bytes are refused (the format forbids overlaps)", () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++)
      header[`t${i}`] = { dtype: "U8", shape: [MiB], data_offsets: [0, MiB] };
    assert.throws(
      () => readSafetensors(file(header, new Uint8Array(MiB)), "overlap.safetensors"),
      /^Error: overlap\.safetensors: tensors t\d+ and t\d+ overlap in the data section$/,
    );
  });

  test("a deeply nested shape and a giant dtype name give short errors naming the file", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const raw = Buffer.from(`{"w": {"dtype": "F32", "shape": ${deep}, "data_offsets": [0, 0]}}`);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(raw.length));
    assert.throws(
      () => readSafetensors(Buffer.concat([len, raw]), "deep.safetensors"),
      (e: Error) => {
        assert.match(e.message, /^deep\.safetensors: /);
        assert.ok(e.message.length < 300, e.message.slice(0, 300));
        return true;
      },
    );
    const big = file(
      { w: { dtype: "x".repeat(MiB), shape: [0], data_offsets: [0, 0] } },
      new Uint8Array(0),
    );
    assert.throws(
      () => readSafetensors(big, "dtype.safetensors"),
      (e: Error) => {
        assert.match(
          e.message,
          /^dtype\.safetensors: tensor w: unsupported dtype "x+… \(1048578 characters\)$/,
        );
        return true;
      },
    );
  });
});

describe("ZIP64", () => {
  test("a ZIP64 archive (64-bit sizes, offsets and end record) reads like the plain one", () => {
    const plain = readPth(craftZip(genuineEntries()), "plain.pth");
    const z64 = craftZip(genuineEntries(), true);
    assert.deepEqual(canon(readPth(z64, "z64.pth")), canon(plain));
    // The crafted archive is a real ZIP64 file: PyTorch reads it too.
    const dir = mkdtempSync(join(tmpdir(), "kdep-z64-"));
    try {
      writeFileSync(join(dir, "z64.pth"), z64);
      const got = runPythonJson<number[]>(
        "import sys, json, torch; print(json.dumps(torch.load(sys.argv[1])['w'].tolist()))",
        [join(dir, "z64.pth")],
      );
      assert.deepEqual(got, [1, 2, 3, 4]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
