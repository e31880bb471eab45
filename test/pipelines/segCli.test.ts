// `kdep transfer seg`, `transfer seg-task` and the suite's segmentation rows through the real
// command line: files written, config precedence, refusals before anything is written.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readMaskPng } from "../../src/data/png.js";
import { CLI } from "../helpers/cli.js";

const ENV = { ...process.env, KDEP_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };
const kdep = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { env: ENV, encoding: "utf8", timeout: 300_000 });
const ok = (args: string[]) => {
  const r = kdep(args);
  assert.equal(r.status, 0, `kdep ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
};

describe("kdep transfer seg (command line)", () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-seg-cli-"));
  const task = join(root, "task");
  const small = ["--width", "8", "--head-channels", "16", "--crop", "48", "--base-size", "48"];

  it("seg-task, then seg with a YAML config under flags: result.json, pictures, confusion CSV", async () => {
    ok(["transfer", "seg-task", "--out", task, "--train", "8", "--val", "4", "--size", "48"]);
    const cfg = join(root, "run.yaml");
    writeFileSync(cfg, "epochs: 5\nbatchSize: 4\nevalEvery: 1\nsaveImages: 3\nlr: 0.5\n");
    const out = join(root, "run");
    const stdout = ok([
      "transfer",
      "seg",
      "--config",
      cfg,
      "--dataset",
      "folder",
      "--data",
      task,
      ...small,
      "--epochs",
      "2",
      "--lr",
      "0.02",
      "--workers",
      "0",
      "--weights",
      "none",
      "--out",
      out,
      "--save-labels",
    ]);
    assert.match(stdout, /folder: best mIoU \d+\.\d\d \(epoch [12]\), final mIoU/);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    assert.equal(config.epochs, 2, "a flag wins over the file");
    assert.equal(config.lr, 0.02);
    assert.equal(config.batchSize, 4, "the file wins over the default");
    assert.deepEqual([config.scaleMin, config.scaleMax, config.auxWeight], [0.5, 2, 0.4]);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    assert.equal(result.history.length, 2);
    assert.deepEqual(Object.keys(result.perClassIoU), [
      "background",
      "Coat",
      "Shirt",
      "Dress",
      "Ankle boot",
    ]);
    assert.ok(result.bestMIoU >= result.finalMIoU);
    for (const f of ["0000.png", "0001.png", "0002.png"])
      assert.ok(existsSync(join(out, "predictions", f)), f);
    assert.ok(!existsSync(join(out, "predictions", "0003.png")));
    const labels = readdirSync(join(out, "predictions", "labels")).sort();
    assert.deepEqual(labels, ["val_00000.png", "val_00001.png", "val_00002.png", "val_00003.png"]);
    const pred = await readMaskPng(join(out, "predictions", "labels", "val_00003.png"));
    assert.deepEqual([pred.width, pred.height], [48, 48]);
    assert.ok(pred.data.every((v) => v < 5));
    const csv = readFileSync(join(out, "confusion.csv"), "utf8").trim().split("\n");
    assert.equal(csv.length, 6);
    const total = csv
      .slice(1)
      .flatMap((l) => l.split(",").slice(1).map(Number))
      .reduce((a, b) => a + b, 0);
    assert.ok(total > 0 && total <= 4 * 48 * 48, `${total} labelled pixels counted`);
    assert.match(readFileSync(join(out, "per_class.md"), "utf8"), /\| 4 \| Ankle boot \|/);
  });

  it("refuses unknown keys and bad values before writing anything", () => {
    const cfg = join(root, "bad.yaml");
    writeFileSync(cfg, "epohcs: 3\n");
    const out = join(root, "never");
    const r = kdep(["transfer", "seg", "--config", cfg, "--data", task, "--out", out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /epohcs: unknown setting \(in .*bad\.yaml\); did you mean "epochs"\?/);
    const r2 = kdep(["transfer", "seg", "--backbone", "vgg16", "--data", task, "--out", out]);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /backbone: .*vgg16/);
    assert.ok(!existsSync(out));
  });

  it("suite: segmentation rows beside classification ones in the same table", () => {
    const data = join(root, "suite-data");
    ok([
      "transfer",
      "seg-task",
      "--out",
      join(data, "seg-folder"),
      "--train",
      "4",
      "--val",
      "2",
      "--size",
      "48",
    ]);
    const segCfg = join(root, "seg.json");
    writeFileSync(
      segCfg,
      JSON.stringify({
        width: 8,
        headChannels: 16,
        crop: 48,
        baseSize: 48,
        epochs: 1,
        batchSize: 4,
        saveImages: 0,
      }),
    );
    const out = join(root, "suite");
    ok([
      "transfer",
      "suite",
      "--students",
      "random=none",
      "--data-root",
      data,
      "--datasets",
      "",
      "--seg-datasets",
      "folder",
      "--seg-config",
      segCfg,
      "--runs",
      "2",
      "--workers",
      "0",
      "--out",
      out,
    ]);
    const md = readFileSync(join(out, "suite.md"), "utf8");
    assert.match(md, /folder mIoU/);
    // --runs reaches the dense rows: run k seeded seed + k, each its own folder and cell entry.
    const cell = JSON.parse(readFileSync(join(out, "suite.json"), "utf8")).cells.find(
      (c: { dataset: string }) => c.dataset === "folder mIoU",
    );
    for (const k of [0, 1]) {
      const dir = join(out, "random", "seg-folder", `run${k}`);
      const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
      assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).seed, k);
      assert.ok(Math.abs(cell.runs[k] - 100 * result.bestMIoU) < 1e-9);
    }
  });
});
