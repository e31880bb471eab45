// Bad input fails before anything is written, with a message naming the file, key or
// shape at fault; and the CLI prints what it unwrapped and renamed.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Command } from "commander";
import { registerConvert } from "../../src/cli/commands/convert.js";
import { writePth } from "../../src/io/index.js";
import { convertCheckpoint, parseFormat } from "../../src/pipelines/convert/index.js";
import { makeStudent, type Student } from "./student.js";

let dir: string;
let r18: Student;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "kdep-convert-err-"));
  r18 = makeStudent("resnet18", dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("a file that is not a checkpoint", () => {
  const bad = join(dir, "notes.txt");
  writeFileSync(bad, "these are not weights\n");
  const out = join(dir, "never.pth");
  assert.throws(
    () => convertCheckpoint({ input: bad, output: out, to: "torchvision" }),
    (e: Error) => e.message.includes(bad) && /unrecognised checkpoint format/.test(e.message),
  );
  assert.throws(
    () => convertCheckpoint({ input: join(dir, "missing.pth"), output: out, to: "torchvision" }),
    /cannot read .*missing\.pth/,
  );
  // A pickle without tensors.
  const empty = join(dir, "empty.pth");
  writePth(empty, new Map([["epoch", 3]]));
  assert.throws(
    () => convertCheckpoint({ input: empty, output: out, to: "torchvision" }),
    (e: Error) =>
      e.message.startsWith(empty) &&
      /no state dict found.*top-level keys are epoch/.test(e.message),
  );
  assert.equal(existsSync(out), false);
});

test("an unknown format names the ones we write", () => {
  assert.throws(
    () => parseFormat("onnx"),
    /unknown format "onnx"; expected one of torchvision, safetensors, robustness, semseg, detectron2/,
  );
  assert.throws(
    () => convertCheckpoint({ input: r18.path, output: join(dir, "x"), to: "tflite" }),
    /unknown format "tflite"/,
  );
});

test("wrong --arch or wrong shapes name the key and both shapes", () => {
  const out = join(dir, "never2.pth");
  assert.throws(
    () => convertCheckpoint({ input: r18.path, output: out, to: "semseg", arch: "resnet50" }),
    /does not hold a resnet50: missing keys .*layer1\.0\.conv3\.weight/,
  );
  assert.throws(
    () => convertCheckpoint({ input: r18.path, output: out, to: "semseg", arch: "vgg16" }),
    /unknown architecture "vgg16"/,
  );
  // One tensor of the wrong shape.
  const sd = new Map(r18.tensors);
  sd.set("layer2.0.conv1.weight", { dtype: "float32", shape: [1], data: new Uint8Array(4) });
  const broken = join(dir, "broken.pth");
  writePth(broken, sd);
  assert.throws(
    () => convertCheckpoint({ input: broken, output: out, to: "detectron2" }),
    /broken\.pth: layer2\.0\.conv1\.weight has shape \[1\], a resnet18 expects \[128, 64, 3, 3\]/,
  );
  assert.equal(existsSync(out), false);
});

async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command().exitOverride();
  let out = "";
  let err = "";
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerConvert(program);
  const log = console.log;
  console.log = (...a: unknown[]) => {
    out += `${a.join(" ")}\n`;
  };
  try {
    await program.parseAsync(args, { from: "user" });
    return { out, err, code: 0 };
  } catch (e) {
    return { out, err: err || (e as Error).message, code: 1 };
  } finally {
    console.log = log;
  }
}

test("CLI: prints unwrapping and renames; rejects an unknown --to", async () => {
  const rob = join(dir, "r18.rob.pt");
  convertCheckpoint({ input: r18.path, output: rob, to: "robustness" });
  const out = join(dir, "cli.pkl");
  const r = await cli(["convert", "--to", "detectron2", rob, out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, / state dict found at checkpoint\['model'\]/);
  assert.match(r.out, / stripped prefix module\.model\.model\./);
  assert.match(r.out, /conv1\.weight → stem\.conv1\.weight/);
  assert.match(r.out, /left out fc\.weight, fc\.bias, 20 num_batches_tracked buffers\n/);
  assert.match(r.out, /wrote .*cli\.pkl \(detectron2, 100 tensors\)/);
  assert.ok(existsSync(out));

  const bad = await cli(["convert", "--to", "onnx", r18.path, join(dir, "y")]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /unknown format "onnx"/);
  const help = await cli(["convert", "--help"]);
  assert.match(help.out, /detectron2 +Detectron2 \.pkl/);
});
