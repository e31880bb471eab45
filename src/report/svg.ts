// Small SVG building blocks shared by the charts: escaping, axis ticks, text measuring,
// label wrapping and the legend. Everything returns strings; nothing touches the DOM.

/** DejaVu Sans is what librsvg (sharp) finds on our machines; browsers fall back. */
export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
export const INK = "#1f2937";
export const MUTED = "#6b7280";
export const GRID = "#e5e7eb";
export const BASE = "#94a3b8";
export const HIGHLIGHT = "#2563eb";
/** Tableau-10-like: distinct hues that survive greyscale printing reasonably well. */
export const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#54a24b",
  "#e45756",
  "#72b7b2",
  "#b279a2",
  "#eeca3b",
  "#9d755d",
  "#ff9da6",
  "#bab0ac",
];

export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Rounds coordinates so the SVG stays small and diff-friendly. */
export function r(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** DejaVu Sans averages about 0.6 em per character; good enough for layout. */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.6;
}

export function text(
  x: number,
  y: number,
  s: string,
  opts: {
    size?: number;
    anchor?: "start" | "middle" | "end";
    weight?: "bold" | "normal";
    fill?: string;
    rotate?: number;
  } = {},
): string {
  const size = opts.size ?? 12;
  const attrs = [`x="${r(x)}"`, `y="${r(y)}"`, `font-size="${size}"`];
  if (opts.anchor && opts.anchor !== "start") attrs.push(`text-anchor="${opts.anchor}"`);
  if (opts.weight === "bold") attrs.push(`font-weight="bold"`);
  attrs.push(`fill="${opts.fill ?? INK}"`);
  if (opts.rotate) attrs.push(`transform="rotate(${opts.rotate} ${r(x)} ${r(y)})"`);
  return `<text ${attrs.join(" ")}>${esc(s)}</text>`;
}

/** Splits a label (at "\\n", then at spaces) into at most `maxLines` lines of about `maxWidth` px (last line may run over). */
export function wrapLabel(s: string, maxWidth: number, size: number, maxLines = 3): string[] {
  if (s.includes("\n")) {
    // Explicit breaks win; each part is wrapped on its own.
    return s
      .split("\n")
      .flatMap((part) => wrapLabel(part, maxWidth, size, maxLines))
      .slice(0, maxLines);
  }
  const words = s.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    const next = cur ? `${cur} ${w}` : w;
    if (cur && textWidth(next, size) > maxWidth && lines.length < maxLines - 1) {
      lines.push(cur);
      cur = w;
    } else {
      cur = next;
    }
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Step of 1, 2, 2.5 or 5 × 10^k giving about `count` intervals over [lo, hi]. */
export function niceStep(lo: number, hi: number, count = 5): number {
  const raw = (hi - lo) / count;
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

/** A domain widened to whole steps, and the ticks on it. Fixed ends are kept as given. */
export function linearTicks(
  lo: number,
  hi: number,
  fixed: { lo?: boolean; hi?: boolean } = {},
): { lo: number; hi: number; ticks: number[] } {
  if (hi <= lo) hi = lo + 1;
  const step = niceStep(lo, hi);
  const nlo = fixed.lo ? lo : Math.floor(lo / step + 1e-9) * step;
  const nhi = fixed.hi ? hi : Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(nlo / step - 1e-9) * step; t <= nhi + step * 1e-6; t += step) {
    ticks.push(Math.round(t / step) * step + 0); // + 0 turns -0 into 0
  }
  return { lo: nlo, hi: nhi, ticks };
}

/**
 * Log-axis ticks at 1, 2, 5 × 10^k (whole decades when the data spans more than two), with
 * the domain trimmed to the ticks just around the data so no decade is left empty.
 */
export function logTicks(lo: number, hi: number): { lo: number; hi: number; ticks: number[] } {
  const a = Math.floor(Math.log10(lo));
  const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  const all: number[] = [];
  for (let k = a; k <= b; k++) {
    for (const m of [1, 2, 5]) all.push(Number((m * 10 ** k).toPrecision(6)));
  }
  const first = all.filter((t) => t <= lo * (1 + 1e-9)).pop() ?? all[0];
  const last = all.find((t) => t >= hi * (1 - 1e-9)) ?? all[all.length - 1];
  const inside = all.filter((t) => t >= first && t <= last);
  const few = Math.log10(last / first) <= 2.01;
  const ticks = few
    ? inside
    : inside.filter((t) => t === first || t === last || /^1e/.test(t.toExponential()));
  return { lo: first, hi: last, ticks };
}

/** 0.0001 → "1e-4", 2500 → "2500", 0.25 → "0.25". */
export function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(6)));
}

export interface LegendItem {
  label: string;
  color: string;
  kind: "swatch" | "line" | "dashed" | "errorbar";
}

/** Legend items flowed left to right in rows within `width`; returns markup and height. */
export function legend(
  items: LegendItem[],
  x0: number,
  y0: number,
  width: number,
): { svg: string; height: number } {
  if (items.length === 0) return { svg: "", height: 0 };
  const size = 12;
  const rowH = 20;
  const parts: string[] = [];
  let x = x0;
  let y = y0;
  for (const it of items) {
    const w = 22 + textWidth(it.label, size) + 18;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += rowH;
    }
    const cy = y + rowH / 2;
    if (it.kind === "swatch") {
      parts.push(
        `<rect x="${r(x)}" y="${r(cy - 6)}" width="14" height="12" rx="2" fill="${it.color}"/>`,
      );
    } else if (it.kind === "errorbar") {
      parts.push(
        `<path d="M${r(x + 7)} ${r(cy - 6)}V${r(cy + 6)}M${r(x + 3)} ${r(cy - 6)}H${r(x + 11)}M${r(x + 3)} ${r(cy + 6)}H${r(x + 11)}" stroke="${it.color}" stroke-width="1.5" fill="none"/>`,
      );
    } else {
      const dash = it.kind === "dashed" ? ` stroke-dasharray="5 3"` : "";
      parts.push(
        `<path d="M${r(x)} ${r(cy)}H${r(x + 16)}" stroke="${it.color}" stroke-width="2.5"${dash}/>`,
      );
    }
    parts.push(text(x + 22, cy + 4, it.label, { size, fill: INK }));
    x += w;
  }
  return { svg: `<g>${parts.join("")}</g>`, height: y - y0 + rowH };
}

/** Opening tag with a white background, so PNGs and dark-mode viewers show the same chart. */
export function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" role="img" aria-label="${esc(title)}">` +
    `<title>${esc(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`
  );
}
