// Checkpoints from other code wrap the network's keys: DataParallel adds `module.`, the
// robustness library (which KDEP's reference builds on) stores
// `module.model.model.<key>`, duplicates every weight under `module.attacker.model.model.`,
// and adds its input normaliser's `new_mean`/`new_std`. These helpers recover the bare
// torchvision keys and say what they changed, so a surprising load can be explained.

import type { PyValue } from "./pickle/values.js";
import { isRawTensor, type RawTensor } from "./rawTensor.js";

export interface StripResult {
  stateDict: Map<string, RawTensor>;
  /** One line per change made, e.g. "stripped prefix module.model.model.". */
  report: string[];
}

const NORMALIZER = /^(module\.)?(attacker\.)?normalizer\./;
const WRAPPERS = ["module.", "model."];

export function stripPrefixes(sd: Map<string, RawTensor>): StripResult {
  const report: string[] = [];
  let entries = [...sd];

  const norm = entries.filter(([k]) => NORMALIZER.test(k));
  if (norm.length > 0) {
    entries = entries.filter(([k]) => !NORMALIZER.test(k));
    report.push(
      `dropped ${norm.length} input-normaliser keys (${norm.map(([k]) => k).join(", ")})`,
    );
  }

  // The attacker's copy is the same network again; keep the main copy when both exist.
  const attacker = /^(module\.)?attacker\./;
  const underAttacker = entries.filter(([k]) => attacker.test(k));
  if (underAttacker.length > 0) {
    if (underAttacker.length < entries.length) {
      entries = entries.filter(([k]) => !attacker.test(k));
      report.push(`dropped ${underAttacker.length} duplicate keys under the attacker wrapper`);
    } else {
      entries = entries.map(([k, v]) => [k.replace(attacker, ""), v]);
      report.push("stripped the attacker wrapper prefix");
    }
  }

  // Strip wrapper prefixes only while every key carries them, so real names survive.
  let stripped = "";
  for (;;) {
    const p = WRAPPERS.find((w) => entries.length > 0 && entries.every(([k]) => k.startsWith(w)));
    if (!p) break;
    stripped += p;
    entries = entries.map(([k, v]) => [k.slice(p.length), v]);
  }
  if (stripped) report.push(`stripped prefix ${stripped}`);

  const out = new Map<string, RawTensor>();
  for (const [k, v] of entries) {
    if (out.has(k)) throw new Error(`two checkpoint keys both map to ${k} after prefix stripping`);
    out.set(k, v);
  }
  return { stateDict: out, report };
}

const NESTINGS = ["model", "state_dict", "model_state_dict"];

function asTensorDict(v: unknown): Map<string, RawTensor> | null {
  if (!(v instanceof Map) || v.size === 0) return null;
  for (const [k, x] of v) if (typeof k !== "string" || !isRawTensor(x)) return null;
  return v as Map<string, RawTensor>;
}

/**
 * Finds the state dict inside a checkpoint (a bare dict of tensors, or one nested under
 * `model`, `state_dict` or `model_state_dict`, possibly twice) and strips wrapper prefixes.
 */
export function extractStateDict(checkpoint: PyValue): StripResult & { path: string[] } {
  let node: unknown = checkpoint;
  const path: string[] = [];
  for (let depth = 0; depth < 4; depth++) {
    const sd = asTensorDict(node);
    if (sd) {
      const r = stripPrefixes(sd);
      const where = path.length ? `checkpoint${path.map((p) => `['${p}']`).join("")}` : "top level";
      return { ...r, path, report: [`state dict found at ${where}`, ...r.report] };
    }
    if (!(node instanceof Map)) break;
    const key = NESTINGS.find((k) => node instanceof Map && node.get(k) instanceof Map);
    if (!key) break;
    path.push(key);
    node = node.get(key);
  }
  const keys = checkpoint instanceof Map ? [...checkpoint.keys()].map(String).join(", ") : "";
  throw new Error(
    `no state dict found: expected a dict of tensors, or one under ${NESTINGS.join("/")}` +
      (keys ? `; top-level keys are ${keys}` : ""),
  );
}
