// State-dict key maps between torchvision's mobilenet_v2 and the MobileNetV2 layouts of the
// KDEP reference. Sources (read from the repositories themselves):
//
// - "kdep": CVMI-Lab/KDEP src/mobilenet.py (header "import from tonylins/pytorch-mobilenet-v2",
//   the code is d-li14's variant): features.0 = Sequential(conv, bn, relu6);
//   features.1–17 = InvertedResidual with a flat `conv` Sequential; the last 1×1 conv + BN sits
//   OUTSIDE `features` as top-level `conv.{0,1}`; the head is a bare `classifier` Linear.
// - "tonylins": tonylins/pytorch-mobilenet-v2 MobileNetV2.py: as "kdep", but the last 1×1
//   conv + BN is features.18.{0,1} (as in torchvision).
//
// Inside an inverted residual the flat reference Sequential holds the ReLU6 modules too, so
// its indices skip them:
//   expand ratio 1 (features.1):  conv.0 dw conv, conv.1 bn | conv.3 pw conv, conv.4 bn
//   expand ratio 6 (2–17):        conv.0 pw, conv.1 bn | conv.3 dw, conv.4 bn | conv.6, conv.7
// torchvision nests the conv+bn+act triples:
//   expand ratio 1:  conv.0.0, conv.0.1 | conv.1, conv.2
//   expand ratio 6:  conv.0.0, conv.0.1 | conv.1.0, conv.1.1 | conv.2, conv.3
// Block 1 is the only block with expand ratio 1 in the standard setting; a block's kind is
// read from its keys (a conv.6 member means expand ratio ≠ 1), not assumed.
//
// Channel counts agree with torchvision at width 1.0 (the one KDEP uses). At other widths
// the references round differently (tonylins: ceil; KDEP: divisor 4 at width 0.1), so the
// keys map but the shapes may not — loadStateDict then names the key and both shapes.
import type { Tensor } from "../tensor/tensor.js";

export type ReferenceLayout = "kdep" | "tonylins";

const LAST = 18; // torchvision's index of the final 1×1 conv block

const REF_TO_TV_EXPAND: Record<string, string> = {
  "0": "0.0",
  "1": "0.1",
  "3": "1.0",
  "4": "1.1",
  "6": "2",
  "7": "3",
};
const REF_TO_TV_NO_EXPAND: Record<string, string> = { "0": "0.0", "1": "0.1", "3": "1", "4": "2" };
const invert = (m: Record<string, string>) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));
const TV_TO_REF_EXPAND = invert(REF_TO_TV_EXPAND);
const TV_TO_REF_NO_EXPAND = invert(REF_TO_TV_NO_EXPAND);

/** Blocks whose conv Sequential has a third conv (expand ratio ≠ 1), from either layout. */
function expandingBlocks(keys: Iterable<string>, thirdConv: RegExp): Set<number> {
  const out = new Set<number>();
  for (const k of keys) {
    const m = thirdConv.exec(k);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

function renameKey(
  k: string,
  expanding: Set<number>,
  fromRef: boolean,
  layout: ReferenceLayout,
): string {
  if (fromRef) {
    if (k === "classifier.weight" || k === "classifier.bias") return k.replace(".", ".1.");
    if (layout === "kdep" && k.startsWith("conv.")) return `features.${LAST}.${k.slice(5)}`;
    const m = /^features\.(\d+)\.conv\.(\d+)\.(.+)$/.exec(k);
    if (m) {
      const map = expanding.has(Number(m[1])) ? REF_TO_TV_EXPAND : REF_TO_TV_NO_EXPAND;
      const j = map[m[2]];
      if (j === undefined) throw new Error(`Unexpected MobileNetV2 reference key "${k}"`);
      return `features.${m[1]}.conv.${j}.${m[3]}`;
    }
    return k;
  }
  if (k.startsWith("classifier.1.")) return `classifier.${k.slice("classifier.1.".length)}`;
  if (layout === "kdep" && k.startsWith(`features.${LAST}.`)) {
    return `conv.${k.slice(`features.${LAST}.`.length)}`;
  }
  const m = /^features\.(\d+)\.conv\.(\d+(?:\.\d+)?)\.([a-z_]+)$/.exec(k);
  if (m) {
    const map = expanding.has(Number(m[1])) ? TV_TO_REF_EXPAND : TV_TO_REF_NO_EXPAND;
    const j = map[m[2]];
    if (j === undefined) throw new Error(`Unexpected torchvision MobileNetV2 key "${k}"`);
    return `features.${m[1]}.conv.${j}.${m[3]}`;
  }
  return k;
}

/** KDEP/tonylins reference keys → torchvision keys (tensors shared, order kept). */
export function fromReferenceKeys<T = Tensor>(
  sd: Map<string, T>,
  layout: ReferenceLayout = "kdep",
): Map<string, T> {
  const expanding = expandingBlocks(sd.keys(), /^features\.(\d+)\.conv\.6\./);
  const out = new Map<string, T>();
  for (const [k, v] of sd) out.set(renameKey(k, expanding, true, layout), v);
  if (layout === "kdep") return reorderLastBlock(out);
  return out;
}

/** torchvision keys → KDEP/tonylins reference keys (tensors shared). */
export function toReferenceKeys<T = Tensor>(
  sd: Map<string, T>,
  layout: ReferenceLayout = "kdep",
): Map<string, T> {
  // In torchvision's layout only an expanding block has a conv.3 (its last BN).
  const expanding = expandingBlocks(sd.keys(), /^features\.(\d+)\.conv\.3\./);
  const out = new Map<string, T>();
  for (const [k, v] of sd) out.set(renameKey(k, expanding, false, layout), v);
  return out;
}

// In the kdep layout `conv.*` follows all of `features.*` and precedes `classifier`, which is
// torchvision's order too; a map built from a dict in another order is put back in order.
function reorderLastBlock<T>(m: Map<string, T>): Map<string, T> {
  const rank = (k: string) =>
    k.startsWith(`features.${LAST}.`) ? 1 : k.startsWith("classifier") ? 2 : 0;
  return new Map([...m].sort((a, b) => rank(a[0]) - rank(b[0])));
}
