import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import sharp from "sharp";
import { summarizeSuite, writeSuiteTable } from "../../src/report/suiteTable.js";
import type { SuiteRow } from "../../src/report/types.js";
import { assertWellFormedXml } from "./xml.js";

const root = mkdtempSync(join(tmpdir(), "kdep-suite-"));
after(() => rmSync(root, { recursive: true, force: true }));

const rows: SuiteRow[] = [
  { student: "kdep", dataset: "CIFAR-100", runs: [80, 82] },
  { student: "kdep", dataset: "DTD", runs: [70, 74] },
  { student: "sup10", dataset: "CIFAR-100", runs: [76.25, 77.75] },
  { student: "sup10", dataset: "DTD", runs: [66] },
  { student: "sup10", dataset: "DTD", runs: [68] }, // merged with the row above
];

/** Splits one CSV line (quotes allowed) into fields. */
function csvSplit(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q && c === '"' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (c === '"') q = !q;
    else if (c === "," && !q) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

test("mean of datasets and spreads against hand arithmetic", () => {
  const s = summarizeSuite(rows, "std");
  const kdep = s.meanOfDatasets.find((c) => c.student === "kdep");
  // Run-wise means over datasets: (80+70)/2 = 75, (82+74)/2 = 78 → mean 76.5, std |78−75|/√2.
  assert.deepEqual(kdep?.runs, [75, 78]);
  assert.equal(kdep?.mean, 76.5);
  assert.ok(Math.abs((kdep?.spread ?? 0) - 3 / Math.SQRT2) < 1e-12);
  const dtd = s.cells.find((c) => c.student === "sup10" && c.dataset === "DTD");
  assert.deepEqual(dtd?.runs, [66, 68]);
  const sup = s.meanOfDatasets.find((c) => c.student === "sup10");
  // (77 + 67) / 2 = 72; runs pair up: (76.25+66)/2 = 71.125, (77.75+68)/2 = 72.875.
  assert.equal(sup?.mean, 72);
  assert.deepEqual(sup?.runs, [71.125, 72.875]);
  const hr = summarizeSuite(rows, "half-range").meanOfDatasets[0];
  assert.equal(hr.spread, 1.5);
});

test("unpaired runs: the mean of datasets has no spread; a missing dataset has no mean", () => {
  const s = summarizeSuite([
    { student: "a", dataset: "x", runs: [1, 2, 3] },
    { student: "a", dataset: "y", runs: [5] },
    { student: "b", dataset: "x", runs: [1] },
  ]);
  const a = s.meanOfDatasets[0];
  assert.equal(a.mean, 3.5);
  assert.ok(Number.isNaN(a.spread));
  assert.ok(Number.isNaN(s.meanOfDatasets[1].mean));
});

test("writes suite.md/.csv/.json/.svg/.png; the CSV parses back to the same numbers", async () => {
  const o = await writeSuiteTable(
    root,
    [...rows, { student: 'odd, "name"', dataset: "DTD", runs: [1.1] }],
    {
      title: "Suite",
    },
  );
  assert.deepEqual(o.files.map((f) => basename(f)).sort(), [
    "suite.csv",
    "suite.json",
    "suite.md",
    "suite.png",
    "suite.svg",
  ]);
  const lines = readFileSync(o.csv, "utf8").trimEnd().split("\n");
  const head = csvSplit(lines[0]);
  assert.deepEqual(head, [
    "student",
    "dataset",
    "n",
    "mean",
    "spread",
    "spread_kind",
    "task",
    "metric",
    "run_1",
    "run_2",
  ]);
  const recs = lines
    .slice(1)
    .map((l) => Object.fromEntries(csvSplit(l).map((v, i) => [head[i], v])));
  for (const r of rows.slice(0, 3)) {
    const rec = recs.find((x) => x.student === r.student && x.dataset === r.dataset);
    assert.deepEqual([Number(rec?.run_1), Number(rec?.run_2)], r.runs);
  }
  const odd = recs.find((x) => x.student === 'odd, "name"');
  assert.equal(Number(odd?.run_1), 1.1);
  assert.equal(odd?.run_2, "", "missing runs are empty");
  const mod = recs.find((x) => x.student === "kdep" && x.dataset === "mean of datasets");
  assert.equal(Number(mod?.mean), 76.5);
  assert.equal(Number(mod?.spread), Number((3 / Math.SQRT2).toFixed(6)));

  const json = JSON.parse(readFileSync(o.json, "utf8"));
  assert.deepEqual(json.datasets, ["CIFAR-100", "DTD"]);
  assert.equal(json.meanOfDatasets[0].mean, 76.5);
  assert.equal(json.meanOfDatasets[2].mean, null, "NaN becomes null: odd has no CIFAR-100");

  const md = readFileSync(o.md, "utf8");
  assert.ok(md.includes("| kdep | **81.00 ± 1.41** | **72.00 ± 2.83** | **76.50 ± 2.12** |"));
  assert.ok(md.includes("| sup10 | 77.00 ± 1.06 | 67.00 ± 1.41 | 72.00 ± 1.24 |"));
  assert.ok(md.includes('| odd, "name" | — | 1.10 | — |'));
  assert.ok(md.includes("](suite.png)"));

  const svg = readFileSync(join(root, "suite.svg"), "utf8");
  assertWellFormedXml(svg);
  for (const label of ["CIFAR-100", "DTD", "mean of", "kdep", "sup10"])
    assert.ok(svg.includes(label));
  const meta = await sharp(o.png).metadata();
  assert.equal(meta.format, "png");
  assert.equal(meta.width, 1440);
});
