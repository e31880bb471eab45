// Bar and line charts as plain SVG strings, and SVG → PNG through sharp (librsvg).
// Charts are drawn for reading, not decoration: light grid, labelled axes, the value on
// every bar, error bars for the spread over seeds, and a legend saying what they mean.
import sharp from "sharp";
import {
  BASE,
  esc,
  fmtTick,
  GRID,
  HIGHLIGHT,
  INK,
  type LegendItem,
  legend,
  linearTicks,
  logTicks,
  MUTED,
  PALETTE,
  r,
  svgOpen,
  text,
  textWidth,
  wrapLabel,
} from "./svg.js";

export interface Bar {
  label: string;
  value: number;
  /** Half-length of the error bar (± spread), drawn when finite and > 0. */
  error?: number;
  /** Bars sharing a group sit together under the group's name, coloured by `label`. */
  group?: string;
  highlight?: boolean;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  bars: Bar[];
  yMin?: number;
  yMax?: number;
  subtitle?: string;
  /** Legend text for the error bars, e.g. "± std over 3 seeds". */
  errorNote?: string;
  /** Legend text for highlighted bars (ungrouped charts), e.g. "KDEP". */
  highlightNote?: string;
  /** Formats the value printed on each bar; default one or two decimals. */
  format?: (v: number) => string;
  width?: number;
  height?: number;
}

interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function titleBlock(title: string, subtitle: string | undefined): { svg: string; h: number } {
  let svg = text(16, 28, title, { size: 17, weight: "bold" });
  if (subtitle) svg += text(16, 48, subtitle, { size: 12, fill: MUTED });
  return { svg, h: subtitle ? 56 : 38 };
}

/** Horizontal grid lines with tick labels and the rotated y-axis label. */
function yAxis(f: Frame, ticks: number[], y: (v: number) => number, label: string): string {
  const parts: string[] = [];
  for (const t of ticks) {
    const py = y(t);
    parts.push(
      `<path d="M${r(f.left)} ${r(py)}H${r(f.right)}" stroke="${GRID}" stroke-width="1"/>`,
    );
    parts.push(text(f.left - 6, py + 4, fmtTick(t), { size: 11, anchor: "end", fill: MUTED }));
  }
  parts.push(
    text(18, (f.top + f.bottom) / 2, label, { size: 12, anchor: "middle", fill: INK, rotate: -90 }),
  );
  return parts.join("");
}

function tickLabelWidth(ticks: number[]): number {
  return Math.max(...ticks.map((t) => textWidth(fmtTick(t), 11)));
}

function defaultFormat(bars: Bar[]): (v: number) => string {
  const max = Math.max(...bars.map((b) => Math.abs(b.value)));
  const digits = max >= 1000 ? 0 : max >= 10 ? 1 : 2;
  return (v) => (Number.isFinite(v) ? v.toFixed(digits) : "—");
}

export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 420;
  const bars = o.bars.filter((b) => Number.isFinite(b.value));
  const grouped = bars.some((b) => b.group !== undefined);
  const fmt = o.format ?? defaultFormat(bars);

  // Slots along x: one per group (grouped) or one per bar.
  // Labels may repeat across bars (two "Supervised" rows), so ungrouped slots go by index.
  const groups = grouped ? [...new Set(bars.map((b) => b.group ?? ""))] : bars.map((b) => b.label);
  const series = grouped ? [...new Set(bars.map((b) => b.label))] : [];
  const color = (b: Bar): string =>
    grouped ? PALETTE[series.indexOf(b.label) % PALETTE.length] : b.highlight ? HIGHLIGHT : BASE;

  // Domain: include 0 unless the caller fixes yMin; leave headroom for value labels.
  const tops = bars.map((b) => b.value + (Number.isFinite(b.error) ? (b.error ?? 0) : 0));
  const dataHi = tops.length ? Math.max(...tops) : 1;
  const dataLo = bars.length ? Math.min(0, ...bars.map((b) => b.value)) : 0;
  const lo0 = o.yMin ?? dataLo;
  const hi0 = o.yMax ?? dataHi + (dataHi - lo0) * 0.1;
  const dom = linearTicks(lo0, hi0, { lo: o.yMin !== undefined, hi: o.yMax !== undefined });

  const head = titleBlock(o.title, o.subtitle);
  const items: LegendItem[] = grouped
    ? series.map((s, i) => ({ label: s, color: PALETTE[i % PALETTE.length], kind: "swatch" }))
    : [];
  if (!grouped && o.highlightNote && bars.some((b) => b.highlight)) {
    items.push({ label: o.highlightNote, color: HIGHLIGHT, kind: "swatch" });
  }
  if (o.errorNote && bars.some((b) => (b.error ?? 0) > 0)) {
    items.push({ label: o.errorNote, color: INK, kind: "errorbar" });
  }
  const leg = legend(items, 16, head.h, W - 32);

  const left = 32 + tickLabelWidth(dom.ticks) + 8;
  const slotW0 = (W - left - 16) / Math.max(1, groups.length);
  const labelLines = groups.map((g) => wrapLabel(g, slotW0 * 0.95, 12));
  const nLines = Math.max(1, ...labelLines.map((l) => l.length));
  const f: Frame = {
    left,
    right: W - 16,
    top: head.h + leg.height + 18,
    bottom: H - 14 - nLines * 15,
  };
  const y = (v: number) =>
    f.bottom -
    ((Math.min(Math.max(v, dom.lo), dom.hi) - dom.lo) / (dom.hi - dom.lo)) * (f.bottom - f.top);
  const base = y(Math.min(Math.max(0, dom.lo), dom.hi));
  const slotW = (f.right - f.left) / Math.max(1, groups.length);

  const parts: string[] = [svgOpen(W, H, o.title), head.svg, leg.svg];
  parts.push(yAxis(f, dom.ticks, y, o.yLabel));

  const perGroup = grouped ? series.length : 1;
  const barW = Math.min(grouped ? 44 : 72, (slotW * (grouped ? 0.84 : 0.62)) / perGroup);
  bars.forEach((b, i) => {
    const slot = grouped ? groups.indexOf(b.group ?? "") : i;
    const k = grouped ? series.indexOf(b.label) : 0;
    const cx = f.left + slotW * (slot + 0.5) + (k - (perGroup - 1) / 2) * barW;
    const x0 = cx - barW / 2 + (grouped ? 1 : 0);
    const w = barW - (grouped ? 2 : 0);
    const top = y(b.value);
    const stroke = grouped && b.highlight ? ` stroke="${INK}" stroke-width="2"` : "";
    parts.push(
      `<rect x="${r(x0)}" y="${r(Math.min(top, base))}" width="${r(w)}" height="${r(Math.abs(base - top))}" fill="${color(b)}"${stroke}><title>${esc(`${b.group ? `${b.group} · ` : ""}${b.label.replace(/\n/g, " · ")}: ${fmt(b.value)}`)}</title></rect>`,
    );
    let labelY = top;
    const e = b.error ?? 0;
    if (Number.isFinite(e) && e > 0) {
      const y1 = y(b.value + e);
      const y2 = y(b.value - e);
      const cap = Math.min(8, w / 3);
      parts.push(
        `<path d="M${r(cx)} ${r(y1)}V${r(y2)}M${r(cx - cap)} ${r(y1)}H${r(cx + cap)}M${r(cx - cap)} ${r(y2)}H${r(cx + cap)}" stroke="${INK}" stroke-width="1.5" fill="none"/>`,
      );
      labelY = Math.min(labelY, y1);
    }
    const s = fmt(b.value);
    const size = grouped ? 10 : 12;
    const bold = b.highlight ? "bold" : "normal";
    if (textWidth(s, size) <= (grouped ? barW + 6 : slotW * 0.95)) {
      parts.push(text(cx, labelY - 5, s, { size, anchor: "middle", weight: bold }));
    } else {
      // Too narrow for horizontal text: stand the value up above the bar.
      parts.push(
        text(cx + size * 0.35, labelY - 4, s, { size, anchor: "start", weight: bold, rotate: -90 }),
      );
    }
  });

  parts.push(`<path d="M${r(f.left)} ${r(base)}H${r(f.right)}" stroke="${INK}" stroke-width="1"/>`);
  labelLines.forEach((lines, i) => {
    const cx = f.left + slotW * (i + 0.5);
    const hl = !grouped && bars[i]?.highlight;
    lines.forEach((line, j) => {
      parts.push(
        text(cx, f.bottom + 17 + j * 15, line, {
          size: 12,
          anchor: "middle",
          weight: hl ? "bold" : "normal",
        }),
      );
    });
  });
  parts.push("</svg>");
  return parts.join("");
}

export interface LineSeries {
  name: string;
  x: number[];
  y: number[];
  dashed?: boolean;
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  logY?: boolean;
  subtitle?: string;
  width?: number;
  height?: number;
}

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 420;
  const ok = (v: number) => Number.isFinite(v) && (!o.logY || v > 0);
  const pts = o.series.flatMap((s) =>
    s.x.map((x, i) => [x, s.y[i]] as const).filter(([x, v]) => Number.isFinite(x) && ok(v)),
  );
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const xd = linearTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, {
    lo: true,
    hi: true,
  });
  const yLo = ys.length ? Math.min(...ys) : o.logY ? 0.1 : 0;
  const yHi = ys.length ? Math.max(...ys) : 1;
  const yd = o.logY ? logTicks(yLo, yHi) : linearTicks(Math.min(0, yLo), yHi);
  const xTicks = linearTicks(xd.lo, xd.hi).ticks.filter((t) => t >= xd.lo && t <= xd.hi);

  const head = titleBlock(o.title, o.subtitle);
  const colors = o.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const items: LegendItem[] = o.series.map((s, i) => ({
    label: s.name,
    color: colors[i],
    kind: s.dashed ? "dashed" : "line",
  }));
  const leg = legend(items, 16, head.h, W - 32);
  const f: Frame = {
    left: 32 + tickLabelWidth(yd.ticks) + 8,
    right: W - 20,
    top: head.h + leg.height + 14,
    bottom: H - 46,
  };
  const tx = (v: number) => f.left + ((v - xd.lo) / (xd.hi - xd.lo || 1)) * (f.right - f.left);
  const ty = o.logY
    ? (v: number) =>
        f.bottom -
        ((Math.log10(v) - Math.log10(yd.lo)) / (Math.log10(yd.hi) - Math.log10(yd.lo))) *
          (f.bottom - f.top)
    : (v: number) => f.bottom - ((v - yd.lo) / (yd.hi - yd.lo)) * (f.bottom - f.top);

  const parts: string[] = [svgOpen(W, H, o.title), head.svg, leg.svg];
  parts.push(yAxis(f, yd.ticks, ty, o.yLabel + (o.logY ? " (log scale)" : "")));
  for (const t of xTicks) {
    const px = tx(t);
    parts.push(`<path d="M${r(px)} ${r(f.bottom)}v5" stroke="${INK}" stroke-width="1"/>`);
    parts.push(text(px, f.bottom + 18, fmtTick(t), { size: 11, anchor: "middle", fill: MUTED }));
  }
  parts.push(
    `<path d="M${r(f.left)} ${r(f.bottom)}H${r(f.right)}" stroke="${INK}" stroke-width="1"/>`,
  );
  parts.push(text((f.left + f.right) / 2, H - 12, o.xLabel, { size: 12, anchor: "middle" }));

  o.series.forEach((s, i) => {
    // Missing or (on a log axis) non-positive values break the line instead of faking a point.
    const segs: string[] = [];
    let pen = false;
    const dots: string[] = [];
    s.x.forEach((x, j) => {
      const v = s.y[j];
      if (!Number.isFinite(x) || !ok(v)) {
        pen = false;
        return;
      }
      segs.push(`${pen ? "L" : "M"}${r(tx(x))} ${r(ty(v))}`);
      pen = true;
      dots.push(`<circle cx="${r(tx(x))}" cy="${r(ty(v))}" r="2.8" fill="${colors[i]}"/>`);
    });
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    parts.push(
      `<path d="${segs.join("")}" fill="none" stroke="${colors[i]}" stroke-width="2.2" stroke-linejoin="round"${dash}><title>${esc(s.name)}</title></path>`,
    );
    if (s.x.length <= 40) parts.push(...dots);
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Renders an SVG at `width` px (default twice its own width, sharp on high-DPI screens). */
export async function svgToPng(svg: string, opts: { width?: number } = {}): Promise<Buffer> {
  const m = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg);
  const own = m ? Number(m[1]) : 720;
  const width = Math.round(opts.width ?? own * 2);
  // librsvg rasterises at `density` dpi, 72 being 1 px per SVG unit: scale there, not after.
  const png = await sharp(Buffer.from(svg), { density: (72 * width) / own })
    .resize({ width })
    .png({ compressionLevel: 9, palette: true, quality: 100 })
    .toBuffer();
  return png;
}
