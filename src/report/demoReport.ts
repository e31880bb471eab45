// Writes the demo's report folder: report.md (renders on GitHub, images linked
// relatively), a self-contained report.html (inline CSS and SVG, no network), and each
// chart as .svg and .png.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { svgToPng } from "./charts.js";
import { type DemoCharts, demoCharts } from "./demoCharts.js";
import {
  CHARTS,
  denseTables,
  explanation,
  probeSeedTable,
  resultsTable,
  seedHeaders,
  setupRows,
  testsTable,
} from "./demoText.js";
import { htmlPage, htmlTable, inlineSvg } from "./html.js";
import { mdCell, mdHref, mdTable, mdText } from "./markdown.js";
import { findRunLinks, type RunLink } from "./runLinks.js";
import { spreadName } from "./stats.js";
import { esc } from "./svg.js";
import type { DemoReport } from "./types.js";

function subtitle(r: DemoReport): string {
  return `${r.createdAt} · ${r.mode} mode`;
}

function spreadNote(r: DemoReport): string {
  const n = seedHeaders(r).length;
  return `± is the ${spreadName(r.setup.spreadKind)} over ${n} fine-tuning seed${n === 1 ? "" : "s"}; the best mean is in bold.`;
}

export function demoMarkdown(r: DemoReport, links: RunLink[]): string {
  const res = resultsTable(r);
  const best = res.best;
  const probe = probeSeedTable(r);
  const tests = testsTable(r);
  const rows = res.rows.map((row, i) =>
    i === best ? row.map((c) => (c ? `**${mdCell(c)}**` : c)) : row.map(mdCell),
  );
  const align = res.headers.map((_, i) => (i < 2 ? "l" : "r") as "l" | "r");
  const out = [
    `# ${r.title}`,
    "",
    `_${subtitle(r)}_`,
    "",
    explanation(r),
    "",
    "## Results",
    "",
    mdTable(res.headers, rows, { align, raw: true }),
    "",
    spreadNote(r),
    "",
    ...(probe.rows.length
      ? [
          "Linear probe, per seed (the same labelled images per seed as fine-tuning):",
          "",
          mdTable(probe.headers, probe.rows, {
            align: probe.headers.map((_, i) => (i < 2 ? "l" : "r")),
          }),
          "",
        ]
      : []),
    ...denseTables(r).flatMap((d) => [
      `### ${d.title}`,
      "",
      ...(d.description ? [`${mdText(d.description)}.`, ""] : []),
      mdTable(d.headers, d.rows, { align: d.headers.map((_, i) => (i < 2 ? "l" : "r")) }),
      "",
    ]),
    ...(tests.rows.length
      ? [
          `### ${r.setup.test?.name ?? "Paired tests"}: KDEP − baseline`,
          "",
          mdTable(tests.headers, tests.rows, {
            align: tests.headers.map((_, i) => (i < 2 ? "l" : "r")),
          }),
          "",
        ]
      : []),
    ...CHARTS.flatMap((c) => [`![${c.caption}](${c.file}.png)`, ""]),
    "## Findings",
    "",
    ...(r.findings.length ? r.findings.map((f) => `- ${mdText(f)}`) : ["_None recorded._"]),
    "",
    "## Setup",
    "",
    mdTable(["Setting", "Value"], setupRows(r)),
    "",
    "## Run logs",
    "",
    ...(links.length
      ? links.map((l) => `- [${mdCell(l.name)}](${mdHref(l.href)})`)
      : [`_No metrics.jsonl found under \`${r.runsDir}\`._`]),
    "",
  ];
  return out.join("\n");
}

export function demoHtml(r: DemoReport, charts: DemoCharts, links: RunLink[]): string {
  const res = resultsTable(r);
  const best = res.best;
  const probe = probeSeedTable(r);
  const tests = testsTable(r);
  const figures = CHARTS.map(
    (c) =>
      `<figure>${inlineSvg(charts[c.file])}<figcaption>${esc(c.caption)} · <a href="${esc(mdHref(`${c.file}.png`))}">PNG</a></figcaption></figure>`,
  ).join("\n");
  const body = [
    `<header><h1>${esc(r.title)}</h1><p class="sub">${esc(subtitle(r))}</p></header>`,
    `<p class="lede">${esc(explanation(r))}</p>`,
    "<h2>Results</h2>",
    htmlTable(res.headers, res.rows, {
      numericFrom: 2,
      highlightRow: best,
      className: "results",
    }),
    `<p class="note">${esc(spreadNote(r).replace("in bold", "highlighted"))}</p>`,
    ...(probe.rows.length
      ? [
          "<p>Linear probe, per seed (the same labelled images per seed as fine-tuning):</p>",
          htmlTable(probe.headers, probe.rows, { numericFrom: 2, className: "probe" }),
        ]
      : []),
    ...denseTables(r).flatMap((d) => [
      `<h3>${esc(d.title)}</h3>`,
      ...(d.description ? [`<p class="note">${esc(d.description)}.</p>`] : []),
      htmlTable(d.headers, d.rows, { numericFrom: 2, className: "dense" }),
    ]),
    ...(tests.rows.length
      ? [
          `<h3>${esc(r.setup.test?.name ?? "Paired tests")}: KDEP − baseline</h3>`,
          htmlTable(tests.headers, tests.rows, { numericFrom: 2, className: "tests" }),
        ]
      : []),
    figures,
    "<h2>Findings</h2>",
    r.findings.length
      ? `<ul class="findings">${r.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>`
      : "<p><em>None recorded.</em></p>",
    "<h2>Setup</h2>",
    htmlTable(["Setting", "Value"], setupRows(r), { className: "setup" }),
    "<h2>Run logs</h2>",
    links.length
      ? `<ul class="runs">${links.map((l) => `<li><a href="${esc(mdHref(l.href))}"><code>${esc(l.name)}</code></a></li>`).join("")}</ul>`
      : `<p><em>No metrics.jsonl found under <code>${esc(r.runsDir)}</code>.</em></p>`,
  ].join("\n");
  return htmlPage(r.title, body);
}

/**
 * Writes report.md, report.html and accuracy/loss_curves/time .svg + .png into `dir`.
 * Returns the paths of report.md and report.html and of every file written.
 */
export async function writeDemoReport(
  dir: string,
  r: DemoReport,
): Promise<{ md: string; html: string; files: string[] }> {
  await mkdir(dir, { recursive: true });
  const charts = demoCharts(r);
  const links = findRunLinks(r.runsDir, dir);
  const files: string[] = [];
  const put = async (name: string, data: string | Buffer) => {
    const p = join(dir, name);
    await writeFile(p, data);
    files.push(p);
    return p;
  };
  for (const c of CHARTS) {
    await put(`${c.file}.svg`, charts[c.file]);
    await put(`${c.file}.png`, await svgToPng(charts[c.file]));
  }
  const md = await put("report.md", demoMarkdown(r, links));
  const html = await put("report.html", demoHtml(r, charts, links));
  return { md, html, files };
}
