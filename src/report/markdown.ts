// GitHub-flavoured Markdown tables and the escaping they need.

/** Escapes the characters that would break a table cell or start markup. */
export function mdCell(s: string): string {
  return mdText(s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " "));
}

/** Keeps "<" and ">" literal: GitHub would otherwise treat "<word>" as an HTML tag and drop it. */
export function mdText(s: string): string {
  return s.replace(/[<>]/g, (c) => `\\${c}`);
}

/** A pipe table; `align` per column ("l", "r", "c"). Cells are escaped unless `raw`. */
export function mdTable(
  headers: string[],
  rows: string[][],
  opts: { align?: ("l" | "r" | "c")[]; raw?: boolean } = {},
): string {
  const cell = opts.raw ? (s: string) => s : mdCell;
  const rule = headers.map((_, i) => {
    const a = opts.align?.[i] ?? "l";
    return a === "r" ? "---:" : a === "c" ? ":---:" : "---";
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers.map(cell)), line(rule), ...rows.map((r) => line(r.map(cell)))].join("\n");
}

/** A relative link target with each path segment percent-encoded (spaces, parentheses). */
export function mdHref(relPath: string): string {
  return relPath
    .split(/[\\/]/)
    .map((seg) => encodeURIComponent(seg))
    .join("/");
}
