// .npy, safetensors and Detectron2 .pkl against NumPy / PyTorch / pickle, in both directions.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeDetectron2Pkl } from "../../src/io/detectron2Pkl.js";
import { loadCheckpoint, readPickle } from "../../src/io/index.js";
import { readNpy, writeNpy } from "../../src/io/npy.js";
import { readPth } from "../../src/io/pth.js";
import type { RawTensor } from "../../src/io/rawTensor.js";
import { readSafetensors, safetensorsBytes, writeSafetensors } from "../../src/io/safetensors.js";
import { requirePython, runPython, runPythonFile } from "../helpers/python.js";
import { canon, fixture } from "./canon.js";

requirePython("torch", "torchvision", "numpy");

function check<T>(kind: string, paths: string[]): Record<string, T> {
  const lines = runPythonFile(fixture("check_outputs.py"), [kind, ...paths])
    .trim()
    .split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

describe("npy", () => {
  let dir = "";
  let expected: Record<string, unknown> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kdep-npy-"));
    runPythonFile(fixture("make_npy.py"), [dir]);
    expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("reads every dtype, Fortran and C order, both byte orders, versions 1-3", () => {
    for (const [name, want] of Object.entries(expected)) {
      assert.deepEqual(canon(readNpy(join(dir, `${name}.npy`))), want, name);
    }
  });

  test("writes v1.0 C-order little-endian files NumPy loads exactly", () => {
    const paths: string[] = [];
    for (const name of Object.keys(expected)) {
      const p = join(dir, `out_${name}.npy`);
      writeNpy(p, readNpy(join(dir, `${name}.npy`)));
      paths.push(p);
    }
    const got = check<{ canon: unknown; c_order: boolean; descr: string }>("npy", paths);
    for (const name of Object.keys(expected)) {
      const g = got[join(dir, `out_${name}.npy`)];
      assert.deepEqual(g.canon, expected[name], name);
      assert.equal(g.c_order, true);
      assert.ok(!g.descr.startsWith(">"), g.descr);
    }
    assert.equal(readFileSync(paths[0])[6], 1);
  });

  test("content dispatch and truncation errors", () => {
    const p = join(dir, "array.pth");
    writeFileSync(p, readFileSync(join(dir, "f32.npy")));
    assert.equal(loadCheckpoint(p).format, "npy");
    const bytes = readFileSync(join(dir, "f32.npy"));
    assert.throws(
      () => readNpy(bytes.subarray(0, bytes.length - 4), "cut.npy"),
      /cut\.npy: data is truncated/,
    );
    assert.throws(() => readNpy(bytes.subarray(0, 20), "cut.npy"), /cut\.npy: truncated header/);
  });
});

describe("safetensors", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kdep-st-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("reads a file written per the format, with metadata", () => {
    const p = join(dir, "ref.safetensors");
    const want = JSON.parse(runPythonFile(fixture("make_safetensors.py"), [p]).trim());
    const f = readSafetensors(p);
    assert.deepEqual(canon(f.tensors), { d: want.d });
    assert.deepEqual(f.metadata, { format: "pt" });
    assert.equal(loadCheckpoint(p).format, "safetensors");
  });

  test("writes files the reference reader loads exactly (all dtypes, aligned header)", () => {
    const tensors = new Map<string, RawTensor>([
      [
        "a",
        {
          dtype: "float32",
          shape: [2, 2],
          data: new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer),
        },
      ],
      ["b", { dtype: "bfloat16", shape: [1], data: Uint8Array.of(0x80, 0x3f) }],
      ["c", { dtype: "int64", shape: [], data: new Uint8Array(8).fill(7) }],
      ["d", { dtype: "bool", shape: [2], data: Uint8Array.of(1, 0) }],
      ["e", { dtype: "float16", shape: [0, 4], data: new Uint8Array(0) }],
      ["f", { dtype: "int8", shape: [3], data: Uint8Array.of(255, 0, 1) }],
    ]);
    const p = join(dir, "out.safetensors");
    writeSafetensors(p, tensors, { author: "kdep" });
    const got = check<{ canon: unknown; meta: unknown; aligned: boolean }>("safetensors", [p])[p];
    assert.deepEqual(got.canon, canon(tensors));
    assert.deepEqual(got.meta, { author: "kdep" });
    assert.equal(got.aligned, true);
    assert.deepEqual(canon(readSafetensors(p).tensors), canon(tensors));
  });

  test("bad offsets are errors naming the tensor", () => {
    const good = Buffer.from(
      safetensorsBytes({ w: { dtype: "float32", shape: [2], data: new Uint8Array(8) } }),
    );
    const bad = Buffer.from(good.toString("latin1").replace("[0,8]", "[0,9]"), "latin1");
    assert.throws(
      () => readSafetensors(bad, "bad.safetensors"),
      /bad\.safetensors: tensor w: data_offsets \[0, 9\] outside/,
    );
    const wrong = Buffer.from(
      good.toString("latin1").replace('"shape":[2]', '"shape":[3]'),
      "latin1",
    );
    assert.throws(
      () => readSafetensors(wrong, "w.st"),
      /w\.st: tensor w: data_offsets span 8 bytes/,
    );
    assert.throws(() => readSafetensors(good.subarray(0, 12), "t.st"), /t\.st: header length/);
  });
});

describe("Detectron2 pkl", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kdep-d2-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("pickle.load (latin1 and default) sees numpy arrays equal to the weights", () => {
    const src = join(dir, "r18.pth");
    runPython(
      "import sys, torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.resnet18().state_dict(), sys.argv[1])",
      [src],
    );
    const sd = readPth(src) as Map<string, RawTensor>;
    const p = join(dir, "r18.pkl");
    writeDetectron2Pkl(p, sd);
    const got = check<{ canon: unknown; same: boolean; types: string[] }>("detectron2", [p])[p];
    const want = canon(
      new Map<string, unknown>([
        ["model", new Map(sd)],
        ["__author__", "kdep"],
        ["matching_heuristics", true],
      ]),
    );
    assert.deepEqual(got.canon, want);
    assert.equal(got.same, true);
    assert.deepEqual(got.types, ["ndarray"]);
    // Our own reader takes it back, through the numpy allow-list.
    assert.deepEqual(canon(readPickle(p)), want);
  });
});
