// Plain sentences about the demo's numbers, computed, never written in advance: whether
// KDEP beat each baseline, by how much, and whether the gap exceeds the seed spread.
import type { MethodResult } from "./result.js";

export function findings(methods: MethodResult[]): string[] {
  const kdep = methods.find((m) => m.id === "kdep");
  if (!kdep) return [];
  const out: string[] = [];
  const k = kdep.downstream;
  for (const m of methods) {
    if (m === kdep) continue;
    const d = k.mean - m.downstream.mean;
    const noise = k.spread + m.downstream.spread;
    const name = `${m.label}${m.data !== "—" ? ` on ${m.data}` : ""}`;
    const verdict =
      d > noise
        ? `KDEP beats ${name} by ${d.toFixed(2)} points (more than the seed spread, ${noise.toFixed(2)})`
        : d > 0
          ? `KDEP is ahead of ${name} by ${d.toFixed(2)} points, within the seed spread (${noise.toFixed(2)}): not a clear win`
          : `KDEP does not beat ${name}: ${(-d).toFixed(2)} points behind (seed spread ${noise.toFixed(2)})`;
    const time =
      m.pretrainSeconds > 0
        ? `; pre-training took ${kdep.pretrainSeconds.toFixed(0)} s for KDEP vs ${m.pretrainSeconds.toFixed(0)} s`
        : "";
    out.push(`${verdict}${time}.`);
  }
  return out;
}
