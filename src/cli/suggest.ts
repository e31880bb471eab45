// "Did you mean …?" for a mistyped setting: the same name in another case style
// (batch_size → batchSize), a name other tools use (learning_rate → lr), or the closest
// known name by edit distance.

/** Names other trainers use for our settings, in normalised form (lower case, no _ or -). */
const SYNONYMS: Record<string, string> = {
  learningrate: "lr",
  lrate: "lr",
  bs: "batchSize",
  batch: "batchSize",
  wd: "weightDecay",
  numepochs: "epochs",
  nepochs: "epochs",
  numworkers: "workers",
  outdir: "out",
  output: "out",
  outputdir: "out",
};

const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The known key `key` most likely stands for, or undefined when none is close. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const k = norm(key);
  const same = known.find((n) => norm(n) === k);
  if (same) return same;
  // Misspelt synonyms too ("lerning_rate"): match them with a little slack.
  for (const [alias, target] of Object.entries(SYNONYMS)) {
    if (known.includes(target) && editDistance(k, alias) <= Math.floor(alias.length / 4))
      return target;
  }
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of known) {
    const d = editDistance(k, norm(n));
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= Math.max(1, Math.floor(k.length / 3)) ? best : undefined;
}
