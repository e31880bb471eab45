import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { writeDemoReport } from "../../src/report/demoReport.js";
import { esc } from "../../src/report/svg.js";
import { demoFixture, EXPECTED_ROWS } from "./fixture.js";
import { assertWellFormedXml } from "./xml.js";

let root = "";
let out: { md: string; html: string; files: string[] };
const fixture = () => demoFixture(join(root, "runs"));

before(async () => {
  root = mkdtempSync(join(tmpdir(), "kdep-report-"));
  for (const run of ["kdep/seed0", "sup10/pretrain", "random/seed 1"]) {
    mkdirSync(join(root, "runs", run), { recursive: true });
    writeFileSync(join(root, "runs", run, "metrics.jsonl"), '{"event":"epoch"}\n');
  }
  out = await writeDemoReport(join(root, "report"), fixture());
});
after(() => rmSync(root, { recursive: true, force: true }));

test("writes every file it promises", () => {
  const names = out.files.map((f) => basename(f)).sort();
  assert.deepEqual(names, [
    "accuracy.png",
    "accuracy.svg",
    "loss_curves.png",
    "loss_curves.svg",
    "report.html",
    "report.md",
    "time.png",
    "time.svg",
  ]);
  assert.equal(basename(out.md), "report.md");
  assert.equal(basename(out.html), "report.html");
  for (const f of out.files) assert.ok(readFileSync(f).length > 200, f);
});

test("markdown results table: one row per method, numbers formatted", () => {
  const md = readFileSync(out.md, "utf8");
  const cells = (line: string) =>
    line
      .slice(2, -2)
      .split(" | ")
      .map((c) => c.replace(/\*\*/g, ""));
  const header = md.split("\n").find((l) => l.startsWith("| Pre-training |"));
  assert.deepEqual(cells(header ?? ""), [
    "Pre-training",
    "Data",
    "Pre-training time",
    "Top-1 % (mean ± std)",
    "seed 0",
    "seed 1",
    "seed 2",
  ]);
  const start = md.split("\n").indexOf(header ?? "");
  const rows = md.split("\n").slice(start + 2, start + 2 + 5);
  assert.equal(rows[4], "", "table ends after the last method");
  const methods = fixture().methods;
  for (const [i, m] of methods.entries())
    assert.deepEqual(cells(rows[i]), EXPECTED_ROWS[m.id], m.id);
  // The best mean (KDEP) is bold; no other row is.
  assert.ok(rows[3].startsWith("| **KDEP (SVD + PTS)** |"));
  assert.ok(!rows.slice(0, 3).some((r) => r.includes("**")));
});

test("markdown: images, findings verbatim (HTML-looking text escaped), run links", () => {
  const md = readFileSync(out.md, "utf8");
  for (const c of ["accuracy", "loss_curves", "time"]) assert.ok(md.includes(`](${c}.png)`), c);
  assert.ok(md.includes("- KDEP beats supervised 10% by 4.73 points."));
  assert.ok(md.includes("\\<within spread\\> at 13% of its pre-training time & cost."));
  assert.ok(md.includes("[kdep/seed0/metrics.jsonl](../runs/kdep/seed0/metrics.jsonl)"));
  assert.ok(md.includes("(../runs/random/seed%201/metrics.jsonl)"));
  assert.ok(md.includes("| Distillation subset | 3000 images (10%) |"));
  assert.ok(md.includes("sample std (n − 1) over 3 fine-tuning seeds"));
});

test("html is self-contained and holds the table with the best row highlighted", () => {
  const html = readFileSync(out.html, "utf8");
  assert.ok(!/https?:\/\//i.test(html), "no http(s) URL anywhere");
  assert.ok(!/<(script|link|img|iframe)\b/i.test(html), "no external resources");
  assert.ok(!/url\(/i.test(html), "no CSS url()");
  assert.ok(html.includes("<style>") && html.startsWith("<!doctype html>"));
  assert.equal((html.match(/<svg /g) ?? []).length, 3, "three inline charts");
  const table = /<table class="results">[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  assert.equal((table.match(/<tr[ >]/g) ?? []).length, 1 + 4, "header + one row per method");
  assert.ok(
    table.includes(
      `<tr class="best"><td>KDEP (SVD + PTS)</td><td>10%</td><td class="num">2 min</td><td class="num">75.73 ± 0.57</td>`,
    ),
  );
  assert.ok(html.includes(esc("<within spread>")), "findings escaped, not injected");
  assert.ok(html.includes('href="../runs/kdep/seed0/metrics.jsonl"'));
});

test("each PNG decodes with sharp at a sane size; each SVG is well-formed", async () => {
  for (const f of out.files.filter((p) => p.endsWith(".png"))) {
    const meta = await sharp(f).metadata();
    assert.equal(meta.format, "png", f);
    assert.ok((meta.width ?? 0) >= 600 && (meta.width ?? 0) <= 3000, `${f} width ${meta.width}`);
    assert.ok((meta.height ?? 0) >= 300 && (meta.height ?? 0) <= 2000, `${f} height`);
    assert.ok(readFileSync(f).length < 300_000, `${f} stays small`);
  }
  for (const f of out.files.filter((p) => p.endsWith(".svg"))) {
    assertWellFormedXml(readFileSync(f, "utf8"));
  }
  const acc = readFileSync(join(root, "report", "accuracy.svg"), "utf8");
  for (const m of fixture().methods) assert.ok(acc.includes(esc(m.label)), m.label);
  for (const v of ["50.50", "71.00", "74.40", "75.73"]) assert.ok(acc.includes(`>${v}</text>`), v);
  const loss = readFileSync(join(root, "report", "loss_curves.svg"), "utf8");
  assert.ok(loss.includes("KDEP (SVD + PTS) · train MSE") && loss.includes("Supervised · val CE"));
  const time = readFileSync(join(root, "report", "time.svg"), "utf8");
  assert.ok(time.includes(">15 min 13 s</text>") && time.includes("(min)"));
});

test("no runs folder: the report says so instead of linking nothing", async () => {
  const r = { ...fixture(), runsDir: join(root, "missing"), findings: [] };
  const o = await writeDemoReport(join(root, "report2"), r);
  const md = readFileSync(o.md, "utf8");
  assert.ok(md.includes("_No metrics.jsonl found under"));
  assert.ok(md.includes("_None recorded._"));
});
