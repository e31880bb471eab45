// `kdep transfer suite` with detection rows through the real command line: a classification
// dataset and the offline detection task in one table, each column with its own metric, the
// detection cell equal to the run's own result; a bad key in --det-config is refused, naming
// the file and the key, before anything is trained.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { saveStateDict } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import type { SuiteSummary } from "../../src/report/suiteTable.js";
import { manualSeed } from "../../src/tensor/index.js";
import { PY_DIR, PYTHON } from "../data/helpers.js";
import { runCli } from "../helpers/cli.js";
import { FMNIST_DIR } from "./fixtures/fmnist.js";

const root = mkdtempSync(join(tmpdir(), "kdep-suite-det-"));
after(() => rmSync(root, { recursive: true, force: true }));

// Two iterations of one 96-px image: enough to run every stage, not to learn.
const DET_SETTINGS = [
  "head: fpn",
  "iterations: 2",
  "steps: [1]",
  "warmupIters: 1",
  "batchSize: 1",
  "trainSizes: [96]",
  "testSize: 96",
  "maxSize: 160",
  "drawImages: 0",
  "",
].join("\n");

describe("kdep transfer suite: detection rows", () => {
  it("one table with DTD (top-1) and the detection task (COCO AP), per-row task and metric", async () => {
    const data = join(root, "data");
    execFileSync(PYTHON, [join(PY_DIR, "classification_fixtures.py"), data]);
    const made = await runCli([
      "transfer",
      "det-task",
      "--out",
      join(data, "det-folder"),
      "--fmnist",
      FMNIST_DIR,
      "--train",
      "3",
      "--val",
      "2",
    ]);
    assert.equal(made.code, 0, made.stderr);
    manualSeed(3);
    const student = join(root, "student.pth");
    saveStateDict(student, createModel("resnet18", { numClasses: 0 }).stateDict());
    const detCfg = join(root, "det.yaml");
    writeFileSync(detCfg, DET_SETTINGS);
    const out = join(root, "suite");
    const suiteArgs = (cfg: string, to: string) => [
      "transfer",
      "suite",
      "--students",
      `kdep=${student},random=none`,
      "--data-root",
      data,
      "--datasets",
      "dtd",
      "--det-datasets",
      "folder",
      "--det-config",
      cfg,
      "--runs",
      "1",
      "--epochs",
      "1",
      "--batch-size",
      "16",
      "--image-size",
      "32",
      "--resize",
      "36",
      "--workers",
      "0",
      "--out",
      to,
    ];
    const r = await runCli(suiteArgs(detCfg, out));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kdep · folder COCO AP: \d+\.\d\d/);

    const json = JSON.parse(readFileSync(join(out, "suite.json"), "utf8")) as SuiteSummary;
    assert.deepEqual(json.datasets, ["dtd", "folder COCO AP"]);
    assert.deepEqual(json.columns, {
      dtd: { task: "classification" },
      "folder COCO AP": { task: "detection", metric: "COCO AP" },
    });
    for (const st of ["kdep", "random"]) {
      const runDir = join(out, st, "det-folder", "run0");
      const result = JSON.parse(readFileSync(join(runDir, "result.json"), "utf8"));
      const config = JSON.parse(readFileSync(join(runDir, "config.json"), "utf8"));
      assert.equal(config.weights, st === "kdep" ? student : "none");
      assert.equal(config.iterations, 2, "the det config's settings reach the run");
      assert.equal(config.head, "fpn");
      const cell = json.cells.find((c) => c.student === st && c.dataset === "folder COCO AP");
      assert.deepEqual(cell?.runs, [result.metrics.AP]);
      // The mean of datasets is over classification only: here the DTD cell alone.
      const dtd = json.cells.find((c) => c.student === st && c.dataset === "dtd");
      const mod = json.meanOfDatasets.find((c) => c.student === st);
      assert.equal(mod?.mean, dtd?.mean);
    }
    const csv = readFileSync(join(out, "suite.csv"), "utf8").trim().split("\n");
    assert.equal(csv[0], "student,dataset,n,mean,spread,spread_kind,task,metric,run_1");
    assert.ok(
      csv.some((l) => l.startsWith("kdep,folder COCO AP,1,") && l.includes(",detection,COCO AP,")),
    );
    const md = readFileSync(join(out, "suite.md"), "utf8");
    assert.match(md, /folder COCO AP/);
    assert.match(md, /mean of datasets is over classification/);

    // A key `transfer det` does not know: refused before any run folder is made.
    const bad = join(root, "bad.yaml");
    writeFileSync(bad, `${DET_SETTINGS}iteratons: 3\n`);
    const badOut = join(root, "suite-bad");
    const b = await runCli(suiteArgs(bad, badOut));
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /bad\.yaml.*iteratons/);
    assert.ok(!existsSync(join(badOut, "kdep")), "nothing trained");
  });
});
