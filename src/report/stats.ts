// Mean and spread over runs (seeds), and the number formats every report shares.
import type { SpreadKind } from "./types.js";

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1 denominator); 0 for a single run. */
export function std(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  if (xs.length === 1) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/** Half of (max − min): the ± that covers every run. */
export function halfRange(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  return (Math.max(...xs) - Math.min(...xs)) / 2;
}

export function spread(xs: readonly number[], kind: SpreadKind): number {
  return kind === "std" ? std(xs) : halfRange(xs);
}

/** How a spread is described in captions: "sample std" or "half-range". */
export function spreadName(kind: SpreadKind): string {
  return kind === "std" ? "sample std (n − 1)" : "half-range ((max − min) / 2)";
}

/** 75.7412 → "75.74"; NaN → "—". */
export function fmtNum(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

/** "75.74 ± 0.31" (spread omitted when it is not a number). */
export function fmtMeanSpread(m: number, s: number, digits = 2): string {
  return Number.isFinite(s) ? `${fmtNum(m, digits)} ± ${fmtNum(s, digits)}` : fmtNum(m, digits);
}

/** 0 → "0 s", 42.3 → "42 s", 192 → "3 min 12 s", 3900 → "1 h 05 min". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r === 0 ? `${m} min` : `${m} min ${r} s`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return `${h} h ${String(m).padStart(2, "0")} min`;
}

/** 0.1 → "10%", 0.125 → "12.5%". */
export function fmtPercent(fraction: number): string {
  const p = Math.round(fraction * 1000) / 10;
  return `${p}%`;
}
