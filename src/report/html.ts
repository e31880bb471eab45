// A self-contained HTML page: inline CSS, inline SVG, no fonts or scripts from the network.
import { esc } from "./svg.js";

const CSS = `
:root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --best: #dbeafe; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8fafc; color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 40px 28px 64px; background: #fff; min-height: 100vh; }
h1 { font-size: 30px; line-height: 1.2; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.sub, .note, figcaption { color: var(--muted); font-size: 14px; }
.lede { font-size: 17px; }
table { border-collapse: collapse; width: 100%; font-size: 14.5px; margin: 8px 0; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 13px; text-transform: none; border-bottom: 2px solid var(--ink); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f9fafb; }
tr.best, tr.best:nth-child(even) { background: var(--best); font-weight: 600; }
tr.best td:first-child { box-shadow: inset 4px 0 0 var(--accent); }
table.setup td:first-child { white-space: nowrap; color: var(--muted); width: 1%; }
figure { margin: 28px 0; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; }
figcaption { margin-top: 6px; }
ul.findings li { margin: 4px 0; }
a { color: var(--accent); }
code { font-size: 13px; }
`;

export function htmlPage(title: string, body: string): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    `<body><main>\n${body}\n</main></body>`,
    "</html>",
    "",
  ].join("\n");
}

/** Cells are escaped; columns from `numericFrom` on are right-aligned with tabular digits. */
export function htmlTable(
  headers: string[],
  rows: string[][],
  opts: { numericFrom?: number; highlightRow?: number; className?: string } = {},
): string {
  const num = (i: number) =>
    opts.numericFrom !== undefined && i >= opts.numericFrom ? ' class="num"' : "";
  const head = `<thead><tr>${headers.map((h, i) => `<th${num(i)}>${esc(h)}</th>`).join("")}</tr></thead>`;
  const body = rows
    .map((row, j) => {
      const cls = j === opts.highlightRow ? ' class="best"' : "";
      return `<tr${cls}>${row.map((c, i) => `<td${num(i)}>${esc(c)}</td>`).join("")}</tr>`;
    })
    .join("\n");
  const cls = opts.className ? ` class="${esc(opts.className)}"` : "";
  return `<table${cls}>${head}<tbody>\n${body}\n</tbody></table>`;
}

/** An SVG for inlining in HTML: the xmlns (an http URL, and redundant in HTML) is dropped. */
export function inlineSvg(svg: string): string {
  return svg.replace(/\sxmlns="http:\/\/www\.w3\.org\/2000\/svg"/, "");
}
