// Paired t-test over seeds: each seed gives every method the same labelled images and
// the same training order, so per-seed differences cancel the draw's luck and only the
// pre-training's effect (plus training noise) is left. Student's t distribution is computed
// here (regularized incomplete beta, continued fraction) rather than pulled in as a
// dependency: two functions, checked against scipy in the tests.

export interface PairedTest {
  /** Seeds compared (pairs). */
  n: number;
  /** Mean of a − b over the pairs. */
  meanDiff: number;
  /** Sample std of the differences (n − 1). */
  sdDiff: number;
  /** t = meanDiff / (sdDiff / √n), with n − 1 degrees of freedom. */
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** Confidence interval of the mean difference at `level`. */
  ci: [number, number];
  level: number;
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~1e-15 relative). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
  let f = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    for (const num of [
      (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
      (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
    ]) {
      d = 1 + num * d;
      d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-15) break;
  }
  return f;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** Two-sided tail P(|T| ≥ |t|) of Student's t with df degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** CDF P(T ≤ t) of Student's t. */
export function tCdf(t: number, df: number): number {
  const tail = tTwoSided(t, df) / 2;
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(|T| ≥ t) = alpha (bisection on the two-sided tail; 1e-12 absolute). */
export function tCritical(alpha: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (tTwoSided(hi, df) > alpha) hi *= 2;
  while (hi - lo > 1e-12 * Math.max(1, hi)) {
    const mid = (lo + hi) / 2;
    if (tTwoSided(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Paired t-test of a against b (same seeds, same order); null below 2 pairs. */
export function pairedTTest(a: number[], b: number[], level = 0.95): PairedTest | null {
  if (a.length !== b.length)
    throw new Error(`paired t-test: ${a.length} values against ${b.length}`);
  const n = a.length;
  if (n < 2) return null;
  const d = a.map((x, i) => x - b[i]);
  const meanDiff = d.reduce((s, x) => s + x, 0) / n;
  const sdDiff = Math.sqrt(d.reduce((s, x) => s + (x - meanDiff) ** 2, 0) / (n - 1));
  const df = n - 1;
  const se = sdDiff / Math.sqrt(n);
  // Identical differences: no noise to test against; the sign alone decides.
  const t = se > 0 ? meanDiff / se : meanDiff === 0 ? 0 : Math.sign(meanDiff) * Infinity;
  const p = se > 0 ? tTwoSided(t, df) : meanDiff === 0 ? 1 : 0;
  const half = tCritical(1 - level, df) * se;
  return { n, meanDiff, sdDiff, t, df, p, ci: [meanDiff - half, meanDiff + half], level };
}
