// The width a checkpoint was trained at, read from its shapes, so loading a narrower or wider
// network's weights builds that network instead of failing on the first shape: ResNet's base
// width is conv1's output channels; MobileNetV2's width multiplier is the one whose rounded
// channel counts (torchvision's _make_divisible, divisor 8) give every block's output.
import { INVERTED_RESIDUAL_SETTING, makeDivisible } from "./mobilenetv2.js";
import type { ModelOptions } from "./registry.js";

interface Shaped {
  readonly shape: readonly number[];
}

/** Multipliers people train at; tried first so the reported value is the familiar one. */
const COMMON_MULTS = [1, 0.75, 0.5, 0.35, 0.25, 1.3, 1.4, 1.5, 2];

/** Output channels torchvision's MobileNetV2 has at width `w`: stem, 17 blocks, last conv. */
function mobilenetV2Channels(w: number): number[] {
  const out = [makeDivisible(32 * w, 8)];
  for (const [, c, n] of INVERTED_RESIDUAL_SETTING) {
    for (let i = 0; i < n; i++) out.push(makeDivisible(c * w, 8));
  }
  out.push(makeDivisible(1280 * Math.max(1, w), 8));
  return out;
}

/** The same channel list read from a torchvision-layout state dict, or null if incomplete. */
function channelsIn(sd: ReadonlyMap<string, Shaped>): number[] | null {
  const out: number[] = [];
  for (let i = 0; i <= 18; i++) {
    let ch: number | undefined;
    if (i === 0 || i === 18) ch = sd.get(`features.${i}.0.weight`)?.shape[0];
    else {
      // A block's output is its last conv (the highest-numbered 4-D weight in `conv`).
      let best = -1;
      for (const [k, t] of sd) {
        const m = /^features\.(\d+)\.conv\.(\d+)\.weight$/.exec(k);
        if (m && Number(m[1]) === i && t.shape.length === 4 && Number(m[2]) > best) {
          best = Number(m[2]);
          ch = t.shape[0];
        }
      }
    }
    if (ch === undefined) return null;
    out.push(ch);
  }
  return out;
}

/** MobileNetV2's width multiplier from a torchvision-layout state dict; null when the keys
 *  are not that layout (the architecture check then names them). */
export function inferWidthMult(sd: ReadonlyMap<string, Shaped>, file: string): number | null {
  const seen = channelsIn(sd);
  if (!seen) return null;
  const base = mobilenetV2Channels(1);
  const candidates = [...COMMON_MULTS, ...seen.map((c, i) => c / base[i])];
  const same = (a: number[]) => a.every((c, i) => c === seen[i]);
  const found = candidates.find((w) => w > 0 && same(mobilenetV2Channels(w)));
  if (found === undefined) {
    throw new Error(
      `${file}: MobileNetV2 channel counts [${seen.join(", ")}] match no width multiplier; ` +
        "pass --width-mult if the network was built with another rounding",
    );
  }
  return found;
}

/** Width options of `arch` for a checkpoint's state dict (empty when nothing to infer). */
export function widthOptionsFromWeights(
  arch: string,
  sd: ReadonlyMap<string, Shaped>,
  file: string,
): ModelOptions {
  if (arch === "mobilenet_v2") {
    const w = inferWidthMult(sd, file);
    return w === null || w === 1 ? {} : { widthMult: w };
  }
  const conv1 = sd.get("conv1.weight");
  return /^resnet\d+$/.test(arch) && conv1 ? { width: conv1.shape[0] } : {};
}
