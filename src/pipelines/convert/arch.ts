// Which network a state dict holds, and a check that it really is that network: every key
// and shape is compared with a freshly built model, so a bad file fails here, naming the
// key and both shapes, rather than later inside Detectron2 or semseg.
import type { RawTensor } from "../../io/index.js";
import { createModel, type ModelOptions } from "../../models/index.js";
import { widthOptionsFromWeights } from "../../models/widthFromWeights.js";
// Registers the ops on Tensor.prototype that model construction uses (nn/init calls fill_),
// which models/ does not import itself.
import "../../tensor/index.js";
import { isHeadKey } from "./head.js";

export type ArchFamily = "resnet" | "mobilenet_v2";

export function archFamily(arch: string): ArchFamily {
  if (/^resnet\d+$/.test(arch)) return "resnet";
  if (arch === "mobilenet_v2") return "mobilenet_v2";
  throw new Error(`unknown architecture "${arch}"; expected resnetN or mobilenet_v2`);
}

// Blocks per stage of torchvision's ResNets (He et al. 2016, Table 1).
const RESNET_DEPTHS: Record<string, string> = {
  "basic:2,2,2,2": "resnet18",
  "basic:3,4,6,3": "resnet34",
  "bottleneck:3,4,6,3": "resnet50",
  "bottleneck:3,4,23,3": "resnet101",
  "bottleneck:3,8,36,3": "resnet152",
};

/** Names the architecture from the keys alone; throws when it is none we know. */
export function inferArch(sd: Map<string, RawTensor>, file: string): string {
  if (sd.has("conv1.weight") && sd.has("layer1.0.conv1.weight")) {
    const blocks = [1, 2, 3, 4].map((s) => {
      let n = 0;
      while (sd.has(`layer${s}.${n}.conv1.weight`)) n++;
      return n;
    });
    const kind = sd.has("layer1.0.conv3.weight") ? "bottleneck" : "basic";
    const name = RESNET_DEPTHS[`${kind}:${blocks.join(",")}`];
    if (name) return name;
    throw new Error(
      `${file}: a ResNet with ${kind} blocks [${blocks.join(", ")}] per stage is none of ` +
        `${Object.values(RESNET_DEPTHS).join(", ")}; pass --arch if it is one of them`,
    );
  }
  if (sd.has("features.0.0.weight") && sd.has("features.18.0.weight")) return "mobilenet_v2";
  const sample = [...sd.keys()].slice(0, 5).join(", ");
  throw new Error(
    `${file}: cannot tell the architecture from its keys (first: ${sample}); ` +
      "expected torchvision ResNet or MobileNetV2 keys",
  );
}

/**
 * Throws unless `sd` holds exactly the keys and shapes of `arch` (the head may be absent,
 * and its class count is taken from the file).
 */
export function checkArch(
  sd: Map<string, RawTensor>,
  arch: string,
  file: string,
  widthMult?: number,
): void {
  const family = archFamily(arch);
  const headWeight = sd.get(family === "resnet" ? "fc.weight" : "classifier.1.weight");
  // The width is read from the file (conv1 for ResNet, every block for MobileNetV2) unless
  // the user states MobileNetV2's multiplier.
  const opts: ModelOptions = {
    numClasses: headWeight ? headWeight.shape[0] : 1000,
    ...(widthMult !== undefined && family === "mobilenet_v2"
      ? { widthMult }
      : widthOptionsFromWeights(arch, sd, file)),
  };
  const model = createModel(arch, opts);
  try {
    const own = model.stateDict();
    const missing = [...own.keys()].filter((k) => !sd.has(k) && !(isHeadKey(k) && !headWeight));
    const unexpected = [...sd.keys()].filter((k) => !own.has(k));
    if (missing.length || unexpected.length) {
      const list = (ks: string[]) =>
        ks.length > 6 ? `${ks.slice(0, 6).join(", ")}, … (${ks.length})` : ks.join(", ");
      throw new Error(
        `${file} does not hold a ${arch}: ` +
          [
            missing.length ? `missing keys ${list(missing)}` : "",
            unexpected.length ? `unexpected keys ${list(unexpected)}` : "",
          ]
            .filter(Boolean)
            .join("; "),
      );
    }
    for (const [k, t] of own) {
      const v = sd.get(k);
      if (!v) continue;
      if (v.shape.length !== t.shape.length || v.shape.some((s, i) => s !== t.shape[i])) {
        throw new Error(
          `${file}: ${k} has shape [${v.shape.join(", ")}], a ${arch} expects [${t.shape.join(", ")}]`,
        );
      }
    }
  } finally {
    model.dispose();
  }
}
