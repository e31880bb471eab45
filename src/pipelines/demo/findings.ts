// Plain sentences about the demo's numbers, computed, never written in advance. "Beats" is
// said only when a paired t-test over the seeds rejects "no difference" at the stated level
// and KDEP is ahead; otherwise the sentence says what the numbers show.
import { pairedTTest } from "./pairedTest.js";
import type { Comparison, MethodResult, SeedRuns } from "./result.js";

export const TEST_NAME = "paired t-test over seeds (two-sided)";

const fmt = (x: number) => x.toFixed(2);
const fmtP = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);
const nameOf = (m: MethodResult) => `${m.label}${m.data !== "—" ? ` on ${m.data}` : ""}`;

/** KDEP against every baseline, fine-tuned and (where measured) linear-probed. */
export function comparisons(methods: MethodResult[], level = 0.95): Comparison[] {
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
  return out;
}

/** One verdict: "beats" only when the test rejects at 1 − level and KDEP is ahead. */
export function verdict(
  c: Comparison,
  kdep: MethodResult,
  baseline: MethodResult,
  level = 0.95,
): string {
  const name = nameOf(baseline);
  const head = c.protocol === "fine-tune" ? "Fine-tuned" : "Linear probe";
  const t = c.test;
  if (!t) {
    const pick = (m: MethodResult): SeedRuns | undefined =>
      c.protocol === "fine-tune" ? m.downstream : m.probe;
    const d = (pick(kdep)?.mean ?? Number.NaN) - (pick(baseline)?.mean ?? Number.NaN);
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
export function findings(methods: MethodResult[], level = 0.95): string[] {
  const kdep = methods.find((m) => m.id === "kdep");
  if (!kdep) return [];
  return comparisons(methods, level).map((c) => {
    const m = methods.find((x) => x.id === c.baseline)!;
    const s = verdict(c, kdep, m, level);
    if (c.protocol !== "fine-tune" || m.pretrainSeconds <= 0) return s;
    return `${s.slice(0, -1)}; pre-training took ${kdep.pretrainSeconds.toFixed(0)} s for KDEP vs ${m.pretrainSeconds.toFixed(0)} s.`;
  });
}
