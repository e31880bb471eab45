// The demo report's three charts, built from a DemoReport: downstream accuracy per method,
// pre-training loss curves, and pre-training time per method.
import { barChart, type LineSeries, lineChart } from "./charts.js";
import { fmtDuration } from "./stats.js";
import { PALETTE } from "./svg.js";
import type { DemoReport, MethodResult } from "./types.js";

export interface DemoCharts {
  accuracy: string;
  loss_curves: string;
  time: string;
}

/** The methods the charts single out: KDEP and its variants ("kdep", "kdep100", ...). */
export function isKdep(id: string): boolean {
  return id.toLowerCase().startsWith("kdep");
}

/** "KDEP (SVD + PTS)" over "10%" on a second line; no second line when there is no data. */
export function barLabel(m: MethodResult): string {
  return m.data && m.data !== "—" ? `${m.label}\n${m.data}` : m.label;
}

export function spreadLegend(r: DemoReport): string {
  const n = Math.max(0, ...r.methods.map((m) => m.downstream.runs.length));
  const what = r.setup.spreadKind === "std" ? "std" : "half-range";
  return `± ${what} over ${n} seed${n === 1 ? "" : "s"}`;
}

export function accuracyChart(r: DemoReport): string {
  return barChart({
    title: "Downstream top-1 accuracy",
    subtitle: `${r.setup.dataset}: ${r.setup.downstreamClasses.length} held-out classes, ${r.setup.downstreamTrainPerClass} labelled images per class, ${r.setup.downstreamTestImages} test images`,
    yLabel: "top-1 accuracy (%)",
    bars: r.methods.map((m) => ({
      label: barLabel(m),
      value: m.downstream.mean,
      error: m.downstream.spread,
      highlight: isKdep(m.id),
    })),
    errorNote: spreadLegend(r),
    highlightNote: "KDEP",
    format: (v) => v.toFixed(2),
  });
}

export function lossChart(r: DemoReport): string {
  const series: LineSeries[] = [];
  r.methods.forEach((m, i) => {
    if (!m.curve) return;
    const color = PALETTE[i % PALETTE.length];
    series.push({
      name: `${m.label} · train ${m.curve.lossName}`,
      x: m.curve.epoch,
      y: m.curve.trainLoss,
      color,
    });
    if (m.curve.valLoss) {
      series.push({
        name: `${m.label} · val ${m.curve.lossName}`,
        x: m.curve.epoch,
        y: m.curve.valLoss,
        color,
        dashed: true,
      });
    }
  });
  return lineChart({
    title: "Pre-training loss",
    subtitle:
      series.length === 0
        ? "No pre-training curves were recorded."
        : "Each method minimises its own loss, so compare shapes, not heights (log scale).",
    xLabel: "epoch",
    yLabel: "loss",
    series,
    logY: true,
  });
}

export function timeChart(r: DemoReport): string {
  const secs = r.methods.map((m) => m.pretrainSeconds);
  // Minutes read better than four-digit seconds; the bar labels keep the exact duration.
  const unit = Math.max(0, ...secs) >= 600 ? 60 : 1;
  const t = r.setup.teacher;
  return barChart({
    title: "Pre-training time",
    subtitle: `Student pre-training only; the teacher (${t.arch}) took ${fmtDuration(t.seconds)}${t.cached ? ", loaded from cache this run" : ""}.`,
    yLabel: unit === 60 ? "pre-training time (min)" : "pre-training time (s)",
    bars: r.methods.map((m) => ({
      label: barLabel(m),
      value: m.pretrainSeconds / unit,
      highlight: isKdep(m.id),
    })),
    highlightNote: "KDEP",
    format: (v) => fmtDuration(v * unit),
  });
}

export function demoCharts(r: DemoReport): DemoCharts {
  return { accuracy: accuracyChart(r), loss_curves: lossChart(r), time: timeChart(r) };
}
