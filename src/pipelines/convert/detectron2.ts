// Detectron2 weight names.
// ResNet: facebookresearch/detectron2 tools/convert-torchvision-to-d2.py, which KDEP's
// src/transform_ckpt_custom2det.py copies: keys without "layer" get "stem.", layer{t} →
// res{t+1}, bn{t} → conv{t}.norm, downsample.0 → shortcut, downsample.1 → shortcut.norm.
// Unlike that script we leave out the classifier (it would become stem.fc.*, which no
// Detectron2 model has) and num_batches_tracked (FrozenBatchNorm2d has no such buffer).
// MobileNetV2: KDEP's src/detectron2/detectron2/modeling/backbone/mobilev2.py builds
// `features` (a ModuleList, 0–17) from the same flat blocks as its src/mobilenet.py, and
// custom2det_mnv2 writes the reference keys unrenamed. So we write the KDEP reference layout
// and keep features.0–17 only: that backbone has no final 1×1 conv (`conv.*`) and no
// classifier. With matching_heuristics Detectron2 finds `backbone.bottom_up.<name>` by suffix.
import type { RawTensor } from "../../io/index.js";
import type { ArchFamily } from "./arch.js";
import { isHeadKey } from "./head.js";
import { referenceNetworkKeys } from "./robustness.js";

export interface Detectron2Weights {
  weights: Map<string, RawTensor>;
  renamed: { from: string; to: string }[];
  dropped: string[];
}

/** One torchvision ResNet key → its Detectron2 name, exactly as convert-torchvision-to-d2. */
export function detectron2ResNetKey(key: string): string {
  let k = key;
  if (!k.includes("layer")) k = `stem.${k}`;
  for (const t of [1, 2, 3, 4]) k = k.replace(`layer${t}`, `res${t + 1}`);
  for (const t of [1, 2, 3]) k = k.replace(`bn${t}`, `conv${t}.norm`);
  k = k.replace("downsample.0", "shortcut");
  return k.replace("downsample.1", "shortcut.norm");
}

export function toDetectron2(sd: Map<string, RawTensor>, family: ArchFamily): Detectron2Weights {
  const weights = new Map<string, RawTensor>();
  const renamed: { from: string; to: string }[] = [];
  const dropped: string[] = [];
  if (family === "resnet") {
    for (const [k, v] of sd) {
      if (isHeadKey(k) || k.endsWith("num_batches_tracked")) {
        dropped.push(k);
        continue;
      }
      const to = detectron2ResNetKey(k);
      weights.set(to, v);
      if (to !== k) renamed.push({ from: k, to });
    }
    return { weights, renamed, dropped };
  }
  const tvNames = [...sd.keys()];
  const ref = [...referenceNetworkKeys(sd, family)];
  ref.forEach(([k, v], i) => {
    const from = tvNames[i];
    if (!k.startsWith("features.") || k.endsWith("num_batches_tracked")) {
      dropped.push(from);
      return;
    }
    weights.set(k, v);
    if (k !== from) renamed.push({ from, to: k });
  });
  return { weights, renamed, dropped };
}
