// `kdep transfer suite` results in the style of the paper's Figure 1
// (docs/method.md#results-the-paper-reports): one row per student, one column per dataset plus the
// mean of datasets, each cell "mean ± spread" over runs. Written as suite.md, suite.csv, suite.json
// and suite.png.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { barChart, svgToPng } from "./charts.js";
import { mdCell, mdTable } from "./markdown.js";
import { fmtMeanSpread, fmtNum, mean, spread, spreadName } from "./stats.js";
import type { SpreadKind, SuiteRow, SuiteTask } from "./types.js";

export const MEAN_OF_DATASETS = "mean of datasets";

export interface SuiteCell {
  student: string;
  dataset: string;
  runs: number[];
  mean: number;
  spread: number;
}

export interface SuiteSummary {
  spreadKind: SpreadKind;
  students: string[];
  /** Column names: the dataset, or "<dataset> <metric>" for a row of another task. */
  datasets: string[];
  /** Per column: its task and its metric (undefined: the table's metric). */
  columns: Record<string, { task: SuiteTask; metric?: string }>;
  cells: SuiteCell[];
  /**
   * Per student, over the classification columns only (top-1 is not averaged with AP or mIoU);
   * `runs` are the per-run means over datasets when runs pair up by index.
   */
  meanOfDatasets: SuiteCell[];
}

export interface SuiteOptions {
  spreadKind?: SpreadKind;
  title?: string;
  /** What the runs measure; default "top-1 %". */
  metric?: string;
}

/** The column a row belongs to: its dataset, or "<dataset> <metric>" for another task. */
export function suiteColumn(row: SuiteRow): string {
  const task = row.task ?? "classification";
  return task !== "classification" && row.metric ? `${row.dataset} ${row.metric}` : row.dataset;
}

/**
 * Groups runs per (student, dataset) — rows naming the same pair are merged — and adds the
 * mean of datasets per student. That mean is the mean of the per-dataset means; its spread
 * is taken over run-wise means (run i averaged over datasets), which needs every dataset to
 * have the same number of runs. Otherwise, or when a dataset is missing, the spread (and,
 * for a missing dataset, the mean) is NaN rather than a number that compares unlike things.
 */
export function summarizeSuite(rows: SuiteRow[], spreadKind: SpreadKind = "std"): SuiteSummary {
  const students = [...new Set(rows.map((r) => r.student))];
  const datasets = [...new Set(rows.map(suiteColumn))];
  const columns: SuiteSummary["columns"] = {};
  for (const r of rows)
    columns[suiteColumn(r)] ??= { task: r.task ?? "classification", metric: r.metric };
  const cells: SuiteCell[] = [];
  for (const student of students) {
    for (const dataset of datasets) {
      const runs = rows
        .filter((r) => r.student === student && suiteColumn(r) === dataset)
        .flatMap((r) => r.runs);
      if (runs.length === 0) continue;
      cells.push({ student, dataset, runs, mean: mean(runs), spread: spread(runs, spreadKind) });
    }
  }
  const meanOfDatasets = students.map((student): SuiteCell => {
    const cls = datasets.filter((d) => columns[d].task === "classification");
    const own = cells.filter((c) => c.student === student && cls.includes(c.dataset));
    const complete = cls.length > 0 && own.length === cls.length;
    const n = own[0]?.runs.length ?? 0;
    const paired = complete && own.every((c) => c.runs.length === n);
    const runs = paired ? Array.from({ length: n }, (_, i) => mean(own.map((c) => c.runs[i]))) : [];
    return {
      student,
      dataset: MEAN_OF_DATASETS,
      runs,
      mean: complete ? mean(own.map((c) => c.mean)) : Number.NaN,
      spread: paired ? spread(runs, spreadKind) : Number.NaN,
    };
  });
  return { spreadKind, students, datasets, columns, cells, meanOfDatasets };
}

function cellOf(s: SuiteSummary, student: string, dataset: string): SuiteCell | undefined {
  const pool = dataset === MEAN_OF_DATASETS ? s.meanOfDatasets : s.cells;
  return pool.find((c) => c.student === student && c.dataset === dataset);
}

export function suiteMarkdown(s: SuiteSummary, o: SuiteOptions = {}): string {
  const cols = [...s.datasets, MEAN_OF_DATASETS];
  // Bold the best mean in each column, as the paper does.
  const best = new Map(
    cols.map((d) => {
      const means = s.students.map((st) => cellOf(s, st, d)?.mean ?? Number.NaN);
      return [d, Math.max(...means.filter(Number.isFinite))];
    }),
  );
  const rows = s.students.map((st) => [
    mdCell(st),
    ...cols.map((d) => {
      const c = cellOf(s, st, d);
      if (!c || !Number.isFinite(c.mean)) return "—";
      // One run has no spread to show; "± 0.00" would claim a certainty nobody measured.
      const txt = c.runs.length >= 2 ? fmtMeanSpread(c.mean, c.spread) : fmtNum(c.mean);
      return s.students.length > 1 && c.mean === best.get(d) ? `**${txt}**` : txt;
    }),
  ]);
  const detail = s.cells.map((c) => [
    c.student,
    c.dataset,
    String(c.runs.length),
    c.runs.map((v) => fmtNum(v)).join(", "),
  ]);
  const maxN = Math.max(0, ...s.cells.map((c) => c.runs.length));
  const mixed = s.datasets.some((d) => s.columns[d].task !== "classification");
  return [
    `# ${o.title ?? "Transfer suite"}`,
    "",
    `${o.metric ?? "top-1 %"}${mixed ? " (other tasks: the metric their column names; the mean of datasets is over classification)" : ""}, mean ± ${spreadName(s.spreadKind)} over up to ${maxN} run${maxN === 1 ? "" : "s"}; the best mean per column is in bold.`,
    "",
    mdTable(
      [
        "Student",
        ...cols.map((d) => (d === MEAN_OF_DATASETS ? "**Mean of datasets**" : mdCell(d))),
      ],
      rows,
      { align: ["l", ...cols.map(() => "r" as const)], raw: true },
    ),
    "",
    "![Transfer suite: mean per dataset with spread over runs](suite.png)",
    "",
    "## Runs",
    "",
    mdTable(["Student", "Dataset", "Runs", "Values"], detail, { align: ["l", "l", "r", "l"] }),
    "",
  ].join("\n");
}

function csvField(v: string | number): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Computed values are rounded to 6 decimals; measured runs are written exactly. */
function derived(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(6)) : x;
}

/** Long form, one line per (student, dataset) and per student's mean of datasets. */
export function suiteCsv(s: SuiteSummary): string {
  const all = [...s.cells, ...s.meanOfDatasets];
  const maxN = Math.max(0, ...all.map((c) => c.runs.length));
  const head = ["student", "dataset", "n", "mean", "spread", "spread_kind", "task", "metric"];
  for (let i = 1; i <= maxN; i++) head.push(`run_${i}`);
  const lines = all.map((c) =>
    [
      c.student,
      c.dataset,
      c.runs.length,
      derived(c.mean),
      derived(c.spread),
      s.spreadKind,
      s.columns[c.dataset]?.task ?? "classification",
      s.columns[c.dataset]?.metric ?? "",
      ...Array.from({ length: maxN }, (_, i) =>
        i >= c.runs.length
          ? Number.NaN
          : c.dataset === MEAN_OF_DATASETS
            ? derived(c.runs[i])
            : c.runs[i],
      ),
    ]
      .map(csvField)
      .join(","),
  );
  return `${[head.join(","), ...lines].join("\n")}\n`;
}

/** JSON with NaN written as null (JSON has no NaN). */
export function suiteJson(s: SuiteSummary, o: SuiteOptions = {}): string {
  const out = { title: o.title ?? "Transfer suite", metric: o.metric ?? "top-1 %", ...s };
  return `${JSON.stringify(out, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`;
}

export function suiteChart(s: SuiteSummary, o: SuiteOptions = {}): string {
  const maxN = Math.max(0, ...s.cells.map((c) => c.runs.length));
  return barChart({
    title: o.title ?? "Transfer suite",
    yLabel: o.metric ?? "top-1 %",
    bars: [...s.datasets, MEAN_OF_DATASETS].flatMap((d) =>
      s.students.flatMap((st) => {
        const c = cellOf(s, st, d);
        return c && Number.isFinite(c.mean)
          ? [{ group: d, label: st, value: c.mean, error: c.spread }]
          : [];
      }),
    ),
    errorNote: `± ${s.spreadKind} over ${maxN} run${maxN === 1 ? "" : "s"}`,
    format: (v) => v.toFixed(1),
  });
}

/** Writes suite.md, suite.csv, suite.json, suite.svg and suite.png into `dir`; returns paths. */
export async function writeSuiteTable(
  dir: string,
  rows: SuiteRow[],
  opts: SuiteOptions = {},
): Promise<{ md: string; csv: string; json: string; png: string; files: string[] }> {
  await mkdir(dir, { recursive: true });
  const s = summarizeSuite(rows, opts.spreadKind ?? "std");
  const svg = suiteChart(s, opts);
  const files: string[] = [];
  const put = async (name: string, data: string | Buffer) => {
    const p = join(dir, name);
    await writeFile(p, data);
    files.push(p);
    return p;
  };
  const md = await put("suite.md", suiteMarkdown(s, opts));
  const csv = await put("suite.csv", suiteCsv(s));
  const json = await put("suite.json", suiteJson(s, opts));
  await put("suite.svg", svg);
  const png = await put("suite.png", await svgToPng(svg));
  return { md, csv, json, png, files };
}
