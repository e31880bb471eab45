// The formats `kdep convert --to` writes, one line each for --help. Each names the framework
// that loads it and how, so a user can pick without reading the code.

export const CONVERT_FORMATS = {
  torchvision: "torchvision .pth state dict, bare keys (load_state_dict(strict=True))",
  safetensors: "safetensors file with the same bare torchvision keys",
  robustness:
    "robustness/KDEP-reference checkpoint {model: module.model.model.<key> + attacker copy + normalizers, epoch}",
  semseg: "hszhao/semseg initmodel: bare keys without the classifier (loaded non-strictly)",
  detectron2:
    'Detectron2 .pkl {"model": {name: ndarray}, matching_heuristics: True}, ResNet stem./resN. names',
} as const;

/** Output formats of {@link convertCheckpoint}. */
export type ConvertFormat = keyof typeof CONVERT_FORMATS;

export function isConvertFormat(name: string): name is ConvertFormat {
  return Object.hasOwn(CONVERT_FORMATS, name);
}

/** Checks a --to value, naming the formats we write when it is not one of them. */
export function parseFormat(name: string): ConvertFormat {
  if (!isConvertFormat(name)) {
    throw new Error(
      `unknown format "${name}"; expected one of ${Object.keys(CONVERT_FORMATS).join(", ")}`,
    );
  }
  return name;
}

/** "  name  description" lines for the command's help text. */
export function formatsHelp(): string {
  const width = Math.max(...Object.keys(CONVERT_FORMATS).map((k) => k.length));
  return Object.entries(CONVERT_FORMATS)
    .map(([k, d]) => `  ${k.padEnd(width)}  ${d}`)
    .join("\n");
}
