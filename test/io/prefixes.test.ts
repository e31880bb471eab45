// Prefix stripping and state-dict discovery, and atomic writes and their cleanup (pure
// TypeScript).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { atomicWriteFile, removeStaleTemps } from "../../src/io/atomicWrite.js";
import { extractStateDict, stripPrefixes } from "../../src/io/prefixes.js";
import type { RawTensor } from "../../src/io/rawTensor.js";

const t = (v: number): RawTensor => ({ dtype: "uint8", shape: [1], data: Uint8Array.of(v) });
const sd = (...keys: string[]) => new Map(keys.map((k, i) => [k, t(i)]));

test("strips DataParallel's module.", () => {
  const r = stripPrefixes(sd("module.conv1.weight", "module.fc.bias"));
  assert.deepEqual([...r.stateDict.keys()], ["conv1.weight", "fc.bias"]);
  assert.deepEqual(r.report, ["stripped prefix module."]);
});

test("KDEP/robustness: keeps module.model.model.*, drops attacker copies and normaliser", () => {
  const r = stripPrefixes(
    sd(
      "module.normalizer.new_mean",
      "module.normalizer.new_std",
      "module.model.model.conv1.weight",
      "module.model.model.layer1.0.bn1.running_mean",
      "module.attacker.normalizer.new_mean",
      "module.attacker.model.model.conv1.weight",
      "module.attacker.model.model.layer1.0.bn1.running_mean",
    ),
  );
  assert.deepEqual([...r.stateDict.keys()], ["conv1.weight", "layer1.0.bn1.running_mean"]);
  // The kept values are the main copy's, not the attacker's.
  assert.equal(r.stateDict.get("conv1.weight")!.data[0], 2);
  assert.equal(r.report.length, 3);
  assert.match(r.report[1], /dropped 2 duplicate keys under the attacker/);
  assert.equal(r.report[2], "stripped prefix module.model.model.");
});

test("only-attacker checkpoints and bare keys", () => {
  const r = stripPrefixes(sd("module.attacker.model.model.fc.weight"));
  assert.deepEqual([...r.stateDict.keys()], ["fc.weight"]);
  const bare = stripPrefixes(sd("conv1.weight", "model_head.bias"));
  assert.deepEqual([...bare.stateDict.keys()], ["conv1.weight", "model_head.bias"]);
  assert.deepEqual(bare.report, []);
  // A prefix only some keys carry is a real name, not a wrapper.
  const mixed = stripPrefixes(sd("model.a", "b"));
  assert.deepEqual([...mixed.stateDict.keys()], ["model.a", "b"]);
});

test("extractStateDict finds common nestings and says where", () => {
  const inner = sd("module.conv1.weight");
  for (const key of ["model", "state_dict", "model_state_dict"]) {
    const ckpt = new Map<unknown, unknown>([
      ["epoch", 3],
      [key, inner],
    ]);
    const r = extractStateDict(ckpt as never);
    assert.deepEqual(r.path, [key]);
    assert.deepEqual([...r.stateDict.keys()], ["conv1.weight"]);
    assert.equal(r.report[0], `state dict found at checkpoint['${key}']`);
  }
  const twice = new Map([["model", new Map([["state_dict", inner]])]]);
  assert.deepEqual(extractStateDict(twice as never).path, ["model", "state_dict"]);
  assert.equal(extractStateDict(inner as never).report[0], "state dict found at top level");
  assert.throws(
    () => extractStateDict(new Map([["epoch", 1]]) as never),
    /no state dict found.*top-level keys are epoch/,
  );
});

test("atomicWriteFile replaces whole files and leaves no temp files", () => {
  const dir = mkdtempSync(join(tmpdir(), "kdep-atomic-"));
  try {
    const p = join(dir, "ckpt.pth");
    writeFileSync(p, "old");
    atomicWriteFile(p, [Buffer.from("new "), Buffer.from("content")]);
    assert.equal(readFileSync(p, "utf8"), "new content");
    assert.deepEqual(readdirSync(dir), ["ckpt.pth"]);
    assert.throws(
      () => atomicWriteFile(join(dir, "missing", "x.pth"), Buffer.from("x")),
      /could not write .*x\.pth/,
    );
    assert.deepEqual(readdirSync(dir), ["ckpt.pth"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("removeStaleTemps deletes temp files no live writer owns", () => {
  const dir = mkdtempSync(join(tmpdir(), "kdep-atomic-"));
  try {
    const p = join(dir, "checkpoint.pth");
    const tmp = (pid: number) => `.checkpoint.pth.${pid}.1700000000000.tmp`;
    // A pid beyond Linux's default pid_max (dead); ours (not writing now); our parent's (a
    // live writer, kept); another file's temp (not ours to judge).
    const dead = tmp(2 ** 22 + 7);
    const mine = tmp(process.pid);
    const other = tmp(process.ppid);
    for (const f of [dead, mine, other, ".student.pth.1.2.tmp", "checkpoint.pth"])
      writeFileSync(join(dir, f), "x");
    assert.deepEqual(removeStaleTemps(p).sort(), [dead, mine].sort());
    assert.deepEqual(
      readdirSync(dir).sort(),
      [other, ".student.pth.1.2.tmp", "checkpoint.pth"].sort(),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
