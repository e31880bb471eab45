// The checkpoint layout of the robustness library, which the KDEP reference trains with.
// Sources, read from the repositories:
// - MadryLab/robustness robustness/attacker.py: AttackerModel registers, in this order,
//   `normalizer` (helpers.InputNormalize, buffers new_mean/new_std of shape [3,1,1]),
//   `model` (the classifier) and `attacker`; Attacker registers `normalize` (note: not
//   `normalizer`) and `model`, the same module again. state_dict() lists shared modules
//   under both names, and DataParallel adds `module.`.
// - robustness/model_utils.py: make_and_restore_model wraps a torchvision-style arch in
//   DummyModel (`.model`) when add_custom_forward is set, as KDEP's src/main.py does for its
//   resnet/mobilenet students: hence `module.model.model.<key>`. It reads
//   checkpoint["model"], strips `module.` and loads strictly, and prints checkpoint["epoch"].
// - CVMI-Lab/KDEP src/transform_ckpt_custom2attacker.py saves {model: …, epoch: 0}.
// - robustness/datasets.py ImageNet: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
import { PyOrderedDict, type PyValue, type RawTensor } from "../../io/index.js";
import { toReferenceKeys } from "../../models/mobilenetv2Keys.js";
import type { ArchFamily } from "./arch.js";

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

function channelVector(values: number[]): RawTensor {
  const data = new Uint8Array(values.length * 4);
  const view = new DataView(data.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(i * 4, v, true);
  return { dtype: "float32", shape: [values.length, 1, 1], data };
}

/** Network keys as the KDEP reference's classifier holds them (its MobileNetV2 differs). */
export function referenceNetworkKeys(
  sd: Map<string, RawTensor>,
  family: ArchFamily,
): Map<string, RawTensor> {
  return family === "mobilenet_v2" ? toReferenceKeys(sd, "kdep") : sd;
}

/** The `model` state dict of a robustness checkpoint, in the library's key order. */
export function robustnessStateDict(
  sd: Map<string, RawTensor>,
  family: ArchFamily,
): Map<string, RawTensor> {
  const net = referenceNetworkKeys(sd, family);
  const out = new Map<string, RawTensor>();
  const mean = channelVector(IMAGENET_MEAN);
  const std = channelVector(IMAGENET_STD);
  out.set("module.normalizer.new_mean", mean);
  out.set("module.normalizer.new_std", std);
  for (const [k, v] of net) out.set(`module.model.model.${k}`, v);
  out.set("module.attacker.normalize.new_mean", mean);
  out.set("module.attacker.normalize.new_std", std);
  // The same tensors again: torch.save of the real model shares these storages as well.
  for (const [k, v] of net) out.set(`module.attacker.model.model.${k}`, v);
  return out;
}

/** The whole checkpoint file: {model: OrderedDict, epoch}. */
export function robustnessCheckpoint(
  sd: Map<string, RawTensor>,
  family: ArchFamily,
  epoch = 0,
): PyValue {
  const model = new PyOrderedDict();
  for (const [k, v] of robustnessStateDict(sd, family)) model.set(k, v);
  return new Map<PyValue, PyValue>([
    ["model", model],
    ["epoch", epoch],
  ]);
}
