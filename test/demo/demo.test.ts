// The README's first command in its quick form, end to end (classification, segmentation
// and detection rows), plus the teacher cache.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { fashionMnist } from "../../src/data/datasets/idx.js";
import { balancedSubset, subsetByClasses } from "../../src/data/datasets/select.js";
import { QUICK, UPSTREAM } from "../../src/pipelines/demo/settings.js";
import { demoTeacher } from "../../src/pipelines/demo/teacher.js";
import type { DemoReport } from "../../src/report/types.js";
import { FMNIST_DIR } from "../pipelines/fixtures/fmnist.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

describe("kdep demo", () => {
  it("--quick runs end to end on a chosen split and writes the report, charts and every run's metrics", () => {
    const out = mkdtempSync(join(tmpdir(), "kdep-demo-"));
    const cache = mkdtempSync(join(tmpdir(), "kdep-demo-cache-"));
    const r = spawnSync(
      process.execPath,
      // Two seeds (the least the paired test takes) keep the suite short; the default is 5.
      [
        CLI,
        "demo",
        "--quick",
        "--out",
        out,
        "--progress",
        "quiet",
        "--seeds",
        "2",
        "--upstream",
        "0,1,2,3,4,5",
        "--downstream",
        "6,7,8,9",
      ],
      {
        // One thread: on a shared machine two OpenMP threads per process wait on each other
        // (measured: the quick demo's dense runs several times slower at load 10).
        env: { ...process.env, KDEP_CACHE: cache, KDEP_NUM_THREADS: "1" },
        encoding: "utf8",
        timeout: 600_000,
      },
    );
    assert.equal(r.status, 0, `demo failed:\n${r.stderr}`);
    for (const f of [
      "report.md",
      "report.html",
      "report.json",
      "accuracy.png",
      "loss_curves.png",
      "time.png",
      "accuracy.svg",
    ]) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as DemoReport;
    assert.deepEqual(
      report.methods.map((m) => m.id),
      ["random", "kdep", "sup10", "sup100", "logitkd", "linear"],
    );
    for (const m of report.methods) {
      assert.equal(m.downstream.runs.length, 2, `${m.id}: one fine-tuning per seed`);
      assert.equal(m.probe?.runs.length, 2, `${m.id}: one linear probe per seed`);
      for (const a of [...m.downstream.runs, ...(m.probe?.runs ?? []), m.upstream ?? -1])
        assert.ok(a >= 0 && a <= 100, `${m.id}: ${a} is a percentage`);
    }
    assert.equal(report.setup.teacher.cached, false);
    assert.equal(report.setup.split, "upstream 0,1,2,3,4,5 / downstream 6,7,8,9");
    assert.deepEqual(report.setup.downstreamClasses, ["Shirt", "Sneaker", "Bag", "Ankle boot"]);
    // Segmentation (mIoU) and detection (AP50, and COCO AP beside it) for every student, on
    // the same seeds.
    assert.deepEqual(
      report.dense?.map((d) => `${d.task}/${d.metric}`),
      ["segmentation/mIoU", "detection/AP50"],
    );
    for (const d of report.dense ?? []) {
      assert.deepEqual(d.seeds, [0, 1]);
      assert.deepEqual(
        Object.keys(d.byMethod),
        report.methods.map((m) => m.id),
      );
      const all = [d.byMethod, d.also?.byMethod ?? {}].flatMap((b) => Object.values(b));
      for (const x of all)
        for (const v of x.runs) assert.ok(v >= 0 && v <= 100, `${d.task}: ${v} is a percentage`);
    }
    assert.equal(report.dense?.[1].also?.metric, "AP");
    assert.equal(
      report.comparisons?.length,
      20,
      "5 baselines × (fine-tune, linear probe, segmentation, detection)",
    );
    assert.equal(report.findings.length, 20, "one finding per comparison");
    for (const c of report.comparisons ?? []) assert.equal(c.test?.n, 2);
    assert.ok(report.findings.some((f) => f.startsWith("Segmentation (mIoU): KDEP")));
    assert.ok(report.findings.some((f) => f.startsWith("Detection (AP50): KDEP")));
    const md = readFileSync(join(out, "report.md"), "utf8");
    for (const label of [
      "KDEP (SVD + PTS)",
      "Random init",
      "Logit KD",
      "Feature KD (linear + BN)",
    ]) {
      assert.ok(md.includes(label), `report.md has a row for ${label}`);
    }
    assert.ok(
      md.includes("upstream 0,1,2,3,4,5 / downstream 6,7,8,9"),
      "the report names the split",
    );
    assert.ok(md.includes("paired t-test over seeds"), "the report names its test");
    assert.ok(md.includes("### Segmentation (mIoU %)"), "a segmentation table");
    assert.ok(md.includes("### Detection (AP50 %)"), "a detection table");
    assert.ok(md.includes("| Random init | detection (AP50) |"), "dense paired tests");
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.ok(!/https?:\/\//.test(html), "report.html is self-contained");
    const runs = readdirSync(join(out, "runs"));
    for (const id of [
      "svd",
      "kdep",
      "sup10",
      "sup100",
      "logitkd",
      "linear",
      "transfer-kdep-seed0",
      "probe-kdep-seed1",
      "upstream-probe-sup10",
      "seg-task",
      "det-task",
      "seg-kdep-seed1",
      "det-sup100-seed0",
    ]) {
      assert.ok(runs.includes(id), `runs/${id}`);
    }
    assert.ok(existsSync(join(out, "runs", "kdep", "metrics.jsonl")));
    assert.ok(existsSync(join(out, "runs", "kdep", "student.pth")));
  });

  it("refuses an overlapping split in one line, before writing anything", () => {
    const out = join(mkdtempSync(join(tmpdir(), "kdep-demo-bad-")), "report");
    const r = spawnSync(
      process.execPath,
      [CLI, "demo", "--quick", "--out", out, "--upstream", "0,1,2", "--downstream", "2,3"],
      { encoding: "utf8" },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.trim(), /^kdep demo: --upstream and --downstream share 2 \(Pullover\)/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(out), "nothing written");
  });

  it("caches the teacher under its hash and reuses it", async () => {
    process.env.KDEP_CACHE = mkdtempSync(join(tmpdir(), "kdep-teacher-cache-"));
    const up = balancedSubset(
      subsetByClasses(await fashionMnist(FMNIST_DIR, "train"), UPSTREAM),
      10,
      0,
    );
    const s = { ...QUICK, width: 4, teacher: { ...QUICK.teacher, epochs: 1 } };
    const first = await demoTeacher(s, up, up, "quiet");
    const second = await demoTeacher(s, up, up, "quiet");
    assert.equal(first.cached, false);
    assert.equal(second.cached, true);
    assert.equal(second.id, first.id);
    assert.equal(second.accuracy, first.accuracy);
    delete process.env.KDEP_CACHE;
  });
});
