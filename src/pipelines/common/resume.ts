// Resuming a run with other settings would continue another run's trajectory: refuse,
// naming every setting that changed. `mayChange` lists what a resume may alter (where
// things are, how fast, how long, how often).
export function checkResumable(
  saved: Record<string, unknown>,
  now: object,
  where: string,
  mayChange: ReadonlySet<string>,
): void {
  const diffs = Object.entries(now)
    .filter(([k, v]) => !mayChange.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(v))
    .map(([k, v]) => `${k}: ${JSON.stringify(saved[k])} → ${JSON.stringify(v)}`);
  if (diffs.length > 0) {
    throw new Error(
      `Cannot resume with settings that differ from ${where} (${diffs.join(", ")}): give the same settings, or choose another --out`,
    );
  }
}
