// `kdep transfer` through the real command line: the suite over CIFAR-100, DTD, Caltech-256
// and CUB-200 fixtures in their real formats (two students, two runs each) and its table
// files checked against the per-run results; `transfer cls` killed with SIGKILL and resumed
// ends exactly where an uninterrupted run does.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { saveStateDict } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import { loadCheckpointFile } from "../../src/pipelines/common/checkpoint.js";
import type { ClassifyResult } from "../../src/pipelines/transfer/classify.js";
import type { SuiteSummary } from "../../src/report/suiteTable.js";
import { manualSeed, type Tensor } from "../../src/tensor/index.js";
import { PY_DIR, PYTHON } from "../data/helpers.js";
import { type FaultTrigger, faultEnv } from "../helpers/faultHook.js";
import { writeTextureFolder } from "./fixtures/patterns.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const FAULT_HOOK = fileURLToPath(new URL("../helpers/faultHook.js", import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "kdep-transfer-cli-"));
// One thread in the children: results are then bit-exact from process to process.
const ENV = { ...process.env, KDEP_NUM_THREADS: "1", OMP_NUM_THREADS: "1" };
const SUITE_DATASETS = ["cifar100", "dtd", "caltech256", "cub200"];

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: ENV,
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `kdep ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

type RunResult = Omit<ClassifyResult, "model">;
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe("kdep transfer (command line)", () => {
  it("suite: four datasets × two students × two runs → md, csv, json and png that match the runs", async () => {
    const root = tmp();
    execFileSync(PYTHON, [join(PY_DIR, "classification_fixtures.py"), join(root, "data")]);
    manualSeed(7);
    const student = join(root, "student.pth");
    saveStateDict(student, createModel("resnet18", { numClasses: 0, width: 8 }).stateDict());
    const out = join(root, "suite");
    const stdout = cli([
      "transfer",
      "suite",
      "--students",
      `kdep=${student},random=none`,
      "--data-root",
      join(root, "data"),
      "--width",
      "8",
      "--runs",
      "2",
      "--epochs",
      "1",
      "--batch-size",
      "16",
      "--eval-every",
      "1",
      "--image-size",
      "32",
      "--resize",
      "36",
      "--workers",
      "0",
      "--out",
      out,
    ]);
    assert.match(stdout, /Suite table: .*suite\.md/);

    // Per-run results, as the runs wrote them.
    const runs = new Map<string, number[]>();
    for (const st of ["kdep", "random"]) {
      for (const d of SUITE_DATASETS) {
        const rs = [0, 1].map((k) =>
          readJson<RunResult>(join(out, st, d, `run${k}`, "result.json")),
        );
        for (const r of rs) assert.equal(r.history.length, 1);
        const configs = [0, 1].map((k) =>
          readJson<{ weights: string; seed: number; width: number }>(
            join(out, st, d, `run${k}`, "config.json"),
          ),
        );
        assert.deepEqual(
          configs.map((c) => [c.weights, c.seed, c.width]),
          [0, 1].map((seed) => [st === "kdep" ? student : "none", seed, 8]),
        );
        runs.set(
          `${st}/${d}`,
          rs.map((r) => r.bestTop1),
        );
      }
    }
    // JSON: one cell per (student, dataset) with those runs, mean and sample std.
    const json = readJson<SuiteSummary>(join(out, "suite.json"));
    assert.deepEqual(json.students, ["kdep", "random"]);
    assert.deepEqual(json.datasets, SUITE_DATASETS);
    assert.equal(json.cells.length, 8);
    for (const c of json.cells) {
      const r = runs.get(`${c.student}/${c.dataset}`)!;
      assert.deepEqual(c.runs, r);
      close(c.mean, (r[0] + r[1]) / 2, `${c.student}/${c.dataset} mean`);
      close(c.spread, Math.abs(r[0] - r[1]) / Math.SQRT2, `${c.student}/${c.dataset} std`);
    }
    for (const m of json.meanOfDatasets) {
      const per = SUITE_DATASETS.map((d) => runs.get(`${m.student}/${d}`)!);
      close(m.mean, mean(per.map((r) => mean(r))), `${m.student} mean of datasets`);
    }
    // CSV: the same numbers, one line per cell plus each student's mean of datasets.
    const lines = readFileSync(join(out, "suite.csv"), "utf8").trim().split("\n");
    assert.equal(lines[0], "student,dataset,n,mean,spread,spread_kind,task,metric,run_1,run_2");
    assert.equal(lines.length, 1 + 8 + 2);
    for (const line of lines.slice(1)) {
      const [student, dataset, n, m, s, kind, task, metric, r1, r2] = line.split(",");
      assert.deepEqual([task, metric], ["classification", ""]);
      assert.equal(kind, "std");
      assert.equal(n, "2");
      if (dataset === "mean of datasets") continue;
      const r = runs.get(`${student}/${dataset}`)!;
      assert.deepEqual([Number(r1), Number(r2)], r);
      close(Number(m), (r[0] + r[1]) / 2, `csv ${student}/${dataset} mean`);
      close(Number(s), Math.abs(r[0] - r[1]) / Math.SQRT2, `csv ${student}/${dataset} std`);
    }
    // Markdown: a row per student with a cell per dataset and the mean of datasets.
    const md = readFileSync(join(out, "suite.md"), "utf8");
    for (const st of ["kdep", "random"]) {
      const row = md.split("\n").find((l) => l.startsWith(`| ${st} `));
      assert.ok(row, `markdown row for ${st}`);
      assert.equal(row.split("|").length - 2, 1 + SUITE_DATASETS.length + 1, row);
      assert.match(row, /\d+\.\d\d ± \d+\.\d\d/);
    }
    for (const d of SUITE_DATASETS) assert.ok(md.includes(d), `markdown names ${d}`);
    const png = await sharp(join(out, "suite.png")).metadata();
    assert.equal(png.format, "png");
    assert.ok((png.width ?? 0) > 100 && (png.height ?? 0) > 100);
  });

  it("cls: a run killed with SIGKILL and resumed ends exactly where an uninterrupted run does", async () => {
    const root = tmp();
    await writeTextureFolder(
      join(root, "data"),
      ["stripes0", "stripes90", "rings"],
      { train: 32, test: 8 },
      { seed: 3 },
    );
    const args = (out: string) => [
      CLI,
      "transfer",
      "cls",
      "--dataset",
      "imagefolder",
      "--data",
      join(root, "data"),
      "--weights",
      "none",
      "--width",
      "8",
      "--epochs",
      "6",
      "--batch-size",
      "16",
      "--lr",
      "0.01",
      "--lr-step",
      "3",
      "--eval-every",
      "2",
      "--image-size",
      "32",
      "--resize",
      "36",
      "--workers",
      "1",
      "--out",
      out,
    ];
    // Killed halfway through writing its third checkpoint (after epoch 3): a deterministic
    // point, so the test cannot race the run.
    const kill: FaultTrigger = { on: "write", file: "checkpoint.pth", count: 3, signal: "SIGKILL" };
    const run = (out: string, killed: boolean) =>
      new Promise<NodeJS.Signals | number | null>((resolve, reject) => {
        const p = spawn(process.execPath, ["--import", FAULT_HOOK, ...args(out)], {
          env: { ...ENV, ...(killed ? faultEnv([kill]) : {}) },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        p.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        p.on("error", reject);
        p.on("exit", (code, signal) => {
          if (code !== 0 && !killed) process.stderr.write(stderr);
          resolve(signal ?? code);
        });
      });
    const full = join(root, "full");
    assert.equal(await run(full, false), 0);
    const killed = join(root, "killed");
    assert.equal(await run(killed, true), "SIGKILL");
    const ck = loadCheckpointFile(join(killed, "run0", "checkpoint.pth"));
    assert.equal(ck.loop.epoch, 2, "the checkpoint before the torn one");
    assert.ok(!existsSync(join(killed, "run0", "result.json")));
    assert.equal(await run(killed, false), 0);

    const [a, b] = [full, killed].map((d) => readJson<RunResult>(join(d, "run0", "result.json")));
    const strip = (r: RunResult) => r.history.map(({ seconds: _s, ...h }) => h);
    assert.deepEqual(strip(b), strip(a));
    assert.deepEqual(
      [b.bestTop1, b.finalTop1, b.finalTop5, b.bestEpoch],
      [a.bestTop1, a.finalTop1, a.finalTop5, a.bestEpoch],
    );
    const weights = (d: string) =>
      loadCheckpointFile(join(d, "run0", "checkpoint.pth")).state.model as Map<string, Tensor>;
    const [wa, wb] = [weights(full), weights(killed)];
    assert.deepEqual([...wb.keys()], [...wa.keys()]);
    for (const [k, t] of wa) {
      assert.ok(Buffer.from(t.toBytes()).equals(Buffer.from(wb.get(k)!.toBytes())), `${k}`);
    }
    // The run's own files: the resolved config and the logs.
    const config = readJson<Record<string, unknown>>(join(killed, "run0", "config.json"));
    assert.equal(config.weights, "none");
    assert.ok(readFileSync(join(killed, "run0", "metrics.jsonl"), "utf8").includes("resume"));
    // Continuing that folder with another learning rate would splice two runs: refused.
    const other = args(killed).map((a) => (a === "0.01" ? "0.02" : a));
    const r = spawnSync(process.execPath, other, { env: ENV, encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Cannot resume with settings that differ .*lr: 0\.01 → 0\.02/);
  });
});
