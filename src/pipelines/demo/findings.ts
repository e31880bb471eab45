// Plain sentences about the demo's numbers, computed, never written in advance. "Beats" is
// said only when a paired t-test over the seeds rejects "no difference" at the stated level
// and KDEP is ahead; otherwise the sentence says what the numbers show. The dense tasks'
// comparisons read the same way, on their own metric.
import { pairedTTest } from "./pairedTest.js";
import type { Comparison, DenseTaskResult, MethodResult, SeedRuns } from "./result.js";

export const TEST_NAME = "paired t-test over seeds (two-sided)";

const fmt = (x: number) => x.toFixed(2);
const fmtP = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);
const nameOf = (m: MethodResult) => `${m.label}${m.data !== "—" ? ` on ${m.data}` : ""}`;

/** KDEP against every baseline: fine-tuned, linear-probed (where measured), then on each
 * dense task with its own metric (over that task's seeds). */
export function comparisons(
  methods: MethodResult[],
  level = 0.95,
  dense: DenseTaskResult[] = [],
): Comparison[] {
  const kdep = methods.find((m) => m.id === "kdep");
  if (!kdep) return [];
  const out: Comparison[] = [];
  for (const m of methods) {
    if (m === kdep) continue;
    out.push({
      baseline: m.id,
      protocol: "fine-tune",
      test: pairedTTest(kdep.downstream.runs, m.downstream.runs, level),
    });
    if (kdep.probe && m.probe)
      out.push({
        baseline: m.id,
        protocol: "linear probe",
        test: pairedTTest(kdep.probe.runs, m.probe.runs, level),
      });
  }
  for (const d of dense) {
    const k = d.byMethod.kdep;
    if (!k) continue;
    for (const m of methods) {
      const b = d.byMethod[m.id];
      if (m === kdep || !b) continue;
      out.push({
        baseline: m.id,
        protocol: d.task,
        metric: d.metric,
        test: pairedTTest(k.runs, b.runs, level),
      });
    }
  }
  return out;
}

/** The two sides a comparison compares, and how its sentence starts. */
function sides(
  c: Comparison,
  kdep: MethodResult,
  baseline: MethodResult,
  dense: DenseTaskResult[],
): { head: string; a?: SeedRuns; b?: SeedRuns } {
  if (c.protocol === "fine-tune")
    return { head: "Fine-tuned", a: kdep.downstream, b: baseline.downstream };
  if (c.protocol === "linear probe")
    return { head: "Linear probe", a: kdep.probe, b: baseline.probe };
  const d = dense.find((x) => x.task === c.protocol);
  const task = `${c.protocol[0].toUpperCase()}${c.protocol.slice(1)}`;
  return {
    head: `${task} (${c.metric ?? d?.metric})`,
    a: d?.byMethod[kdep.id],
    b: d?.byMethod[baseline.id],
  };
}

/** One verdict: "beats" only when the test rejects at 1 − level and KDEP is ahead. */
export function verdict(
  c: Comparison,
  kdep: MethodResult,
  baseline: MethodResult,
  level = 0.95,
  dense: DenseTaskResult[] = [],
): string {
  const name = nameOf(baseline);
  const { head, a, b } = sides(c, kdep, baseline, dense);
  const t = c.test;
  if (!t) {
    const d = (a?.mean ?? Number.NaN) - (b?.mean ?? Number.NaN);
    return `${head}: KDEP − ${name} = ${fmt(d)} points on a single seed: no test possible, no verdict.`;
  }
  const alpha = 1 - level;
  const pct = `${Math.round(level * 100)}%`;
  const stats = `paired t-test over ${t.n} seeds: t(${t.df}) = ${Number.isFinite(t.t) ? t.t.toFixed(2) : t.t > 0 ? "∞" : "−∞"}, ${fmtP(t.p)}; ${pct} CI of the difference [${fmt(t.ci[0])}, ${fmt(t.ci[1])}]`;
  const d = t.meanDiff;
  if (t.p < alpha && d > 0) return `${head}: KDEP beats ${name} by ${fmt(d)} points (${stats}).`;
  if (t.p < alpha && d < 0)
    return `${head}: KDEP does not beat ${name}: it is ${fmt(-d)} points behind, a gap the test finds real (${stats}).`;
  if (d > 0)
    return `${head}: KDEP is ${fmt(d)} points ahead of ${name}, but the test does not separate them at the ${Math.round(alpha * 100)}% level (${stats}): not a clear win.`;
  if (d < 0)
    return `${head}: KDEP is ${fmt(-d)} points behind ${name}; the test does not separate them at the ${Math.round(alpha * 100)}% level (${stats}).`;
  return `${head}: KDEP and ${name} are level (${stats}).`;
}

/** Every comparison as a sentence; fine-tuned ones also compare pre-training times. */
export function findings(
  methods: MethodResult[],
  level = 0.95,
  dense: DenseTaskResult[] = [],
): string[] {
  const kdep = methods.find((m) => m.id === "kdep");
  if (!kdep) return [];
  return comparisons(methods, level, dense).map((c) => {
    const m = methods.find((x) => x.id === c.baseline)!;
    const s = verdict(c, kdep, m, level, dense);
    if (c.protocol !== "fine-tune" || m.pretrainSeconds <= 0) return s;
    return `${s.slice(0, -1)}; pre-training took ${kdep.pretrainSeconds.toFixed(0)} s for KDEP vs ${m.pretrainSeconds.toFixed(0)} s.`;
  });
}
