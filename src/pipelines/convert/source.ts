// Reads the network out of any checkpoint we understand and returns it in torchvision's
// keys: the io layer unwraps nestings and robustness/DataParallel prefixes; here the KDEP
// reference's own MobileNetV2 layout (src/mobilenet.py) is mapped back to torchvision's too.
import { extractStateDict, loadCheckpoint, type RawTensor } from "../../io/index.js";
import { fromReferenceKeys, type ReferenceLayout } from "../../models/mobilenetv2Keys.js";

export interface SourceStateDict {
  stateDict: Map<string, RawTensor>;
  /** What was unwrapped or remapped, one line each. */
  report: string[];
}

/** Which MobileNetV2 reference layout the keys are in, or null (torchvision's, or no MNV2). */
export function mobilenetLayout(keys: Iterable<string>): ReferenceLayout | null {
  let flat = false;
  let topConv = false;
  for (const k of keys) {
    // torchvision nests conv+bn pairs (features.N.conv.0.0.weight); the references do not.
    if (/^features\.\d+\.conv\.0\.weight$/.test(k)) flat = true;
    if (k === "conv.0.weight") topConv = true;
  }
  if (!flat) return null;
  return topConv ? "kdep" : "tonylins";
}

export function readSource(path: string): SourceStateDict {
  const { value } = loadCheckpoint(path);
  let extracted: ReturnType<typeof extractStateDict>;
  try {
    extracted = extractStateDict(value);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const report = [...extracted.report];
  let stateDict = extracted.stateDict;
  const layout = mobilenetLayout(stateDict.keys());
  if (layout) {
    stateDict = fromReferenceKeys(stateDict, layout);
    report.push(`renamed MobileNetV2 keys from the ${layout} reference layout to torchvision's`);
  }
  return { stateDict, report };
}
