// A PSPNet rebuilt from a checkpoint `kdep transfer seg` wrote (model.pth, best.pth): the
// backbone is named from its keys (layer0.{0,1} are torchvision's conv1/bn1), the class count,
// head width and ResNet width from the tensors' shapes; every key must then load.
import type { RawTensor } from "../../io/index.js";
import { fromRaw } from "../../io/tensors.js";
import { PSP_BACKBONES, type PSPBackbone, PSPNet } from "../../models/pspnet.js";
import { inferArch } from "../convert/arch.js";

/** Whether the keys are a PSPNet's (its pyramid and main classifier). */
export function isPspnetState(sd: Map<string, RawTensor>): boolean {
  return sd.has("ppm.features.0.1.weight") && sd.has("cls.4.weight");
}

function shapeOf(sd: Map<string, RawTensor>, key: string, file: string): number[] {
  const t = sd.get(key);
  if (!t) throw new Error(`${file}: a PSPNet checkpoint without ${key}`);
  return t.shape;
}

/** Builds the PSPNet the state dict holds and loads it (strict); `arch` names its backbone. */
export function pspnetFromCheckpoint(
  sd: Map<string, RawTensor>,
  file: string,
  arch?: string,
): { model: PSPNet; backbone: PSPBackbone } {
  // The backbone's keys in torchvision's names, to name the network as `convert` does.
  const tv = new Map<string, RawTensor>();
  for (const [k, v] of sd) {
    if (/^(ppm|cls|aux)\./.test(k)) continue;
    tv.set(k.replace(/^layer0\.0\./, "conv1.").replace(/^layer0\.1\./, "bn1."), v);
  }
  const inferred = inferArch(tv, file);
  const want = arch?.replace(/^pspnet_/, "");
  if (want !== undefined && want !== inferred)
    throw new Error(`${file}: holds a PSPNet on ${inferred}, not on ${want} (--arch)`);
  if (!(PSP_BACKBONES as readonly string[]).includes(inferred))
    throw new Error(`${file}: kdep builds no PSPNet on ${inferred}`);
  const backbone = inferred as PSPBackbone;
  const branches = [...sd.keys()].filter((k) => /^ppm\.features\.\d+\.1\.weight$/.test(k)).length;
  if (branches !== 4) {
    throw new Error(
      `${file}: a pyramid of ${branches} bins; kdep's PSPNet (and its export) has bins 1, 2, 3, 6`,
    );
  }
  const model = new PSPNet({
    backbone,
    numClasses: shapeOf(sd, "cls.4.weight", file)[0],
    headChannels: shapeOf(sd, "cls.0.weight", file)[0],
    ...(backbone === "mobilenet_v2" ? {} : { width: shapeOf(sd, "layer0.0.weight", file)[0] }),
  });
  const tensors = new Map([...sd].map(([k, v]) => [k, fromRaw(v)]));
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    model.dispose();
    throw new Error(`${file}: ${(e as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return { model, backbone };
}
