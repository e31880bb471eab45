// `kdep convert`: read any checkpoint we understand, check it is the network it claims to
// be, rename its keys for the target framework and write it atomically (the io writers
// write a temporary file and rename it, so a failed run never leaves a half-written OUTPUT).
import {
  PyOrderedDict,
  type RawTensor,
  writeDetectron2Pkl,
  writePth,
  writeSafetensors,
} from "../../io/index.js";
import { archFamily, checkArch, inferArch } from "./arch.js";
import { toDetectron2 } from "./detectron2.js";
import { type ConvertFormat, parseFormat } from "./formats.js";
import { splitHead } from "./head.js";
import { referenceNetworkKeys, robustnessCheckpoint } from "./robustness.js";
import { readSource } from "./source.js";

/** Options of {@link convertCheckpoint} (`kdep convert`). */
export interface ConvertOptions {
  input: string;
  output: string;
  to: ConvertFormat | string;
  /** Architecture the input must hold; inferred from its keys when absent. */
  arch?: string;
  /** Leave out the classifier (always done for semseg and detectron2). */
  dropHead?: boolean;
  /** `epoch` written into a robustness checkpoint (KDEP's converter writes 0). */
  epoch?: number;
  /** MobileNetV2's width multiplier; read from the file's shapes when absent. */
  widthMult?: number;
}

export interface Rename {
  from: string;
  to: string;
}

/** What {@link convertCheckpoint} did: architecture, unwrapped layers, renamed and dropped keys. */
export interface ConvertResult {
  format: ConvertFormat;
  arch: string;
  /** What reading the input unwrapped (the io report). */
  unwrapped: string[];
  /** Keys given a new name in the output (torchvision name → output name). */
  renamed: Rename[];
  /** torchvision keys of the input left out of the output. */
  dropped: string[];
  /** Notes on what the output holds besides the network (e.g. normalisers). */
  notes: string[];
  /** Number of tensors written. */
  tensors: number;
}

function orderedDict(sd: Map<string, RawTensor>): PyOrderedDict {
  const d = new PyOrderedDict();
  for (const [k, v] of sd) d.set(k, v);
  return d;
}

function renames(from: string[], to: string[]): Rename[] {
  return from.map((f, i) => ({ from: f, to: to[i] })).filter((r) => r.from !== r.to);
}

/**
 * `kdep convert`: reads any checkpoint kdep understands, checks it is the network it claims to be
 * and writes it in another framework's format, atomically.
 */
export function convertCheckpoint(opts: ConvertOptions): ConvertResult {
  const format = parseFormat(opts.to);
  const epoch = opts.epoch ?? 0;
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new Error(`epoch: expected a non-negative integer, got ${opts.epoch}`);
  }
  if (opts.arch !== undefined) archFamily(opts.arch);
  const { stateDict, report } = readSource(opts.input);
  const arch = opts.arch ?? inferArch(stateDict, opts.input);
  if (opts.arch === undefined) report.push(`architecture inferred from the keys: ${arch}`);
  checkArch(stateDict, arch, opts.input, opts.widthMult);
  const family = archFamily(arch);

  const alwaysHeadless = format === "semseg" || format === "detectron2";
  const { body, head } = splitHead(stateDict);
  const net = opts.dropHead || alwaysHeadless ? body : stateDict;
  const dropped = net === body ? head : [];
  const result = { format, arch, unwrapped: report, dropped, notes: [] as string[] };

  switch (format) {
    case "torchvision": {
      writePth(opts.output, orderedDict(net));
      return { ...result, renamed: [], tensors: net.size };
    }
    case "safetensors": {
      writeSafetensors(opts.output, net, { format: "pt" });
      return { ...result, renamed: [], tensors: net.size };
    }
    case "semseg": {
      // KDEP's semseg MobileNetV2 (src/semseg/model/mobilev2.py) is the reference layout.
      const out = referenceNetworkKeys(net, family);
      writePth(opts.output, orderedDict(out));
      return { ...result, renamed: renames([...net.keys()], [...out.keys()]), tensors: out.size };
    }
    case "robustness": {
      const ckpt = robustnessCheckpoint(net, family, epoch);
      const ref = [...referenceNetworkKeys(net, family).keys()];
      writePth(opts.output, ckpt);
      result.notes.push(
        "each weight also stored under module.attacker.model.model. (same storage)",
        "added module.normalizer.new_{mean,std} and module.attacker.normalize.new_{mean,std} " +
          "(ImageNet mean/std, shape [3, 1, 1])",
        `epoch ${epoch}`,
      );
      return {
        ...result,
        renamed: renames(
          [...net.keys()],
          ref.map((k) => `module.model.model.${k}`),
        ),
        tensors: 2 * net.size + 4,
      };
    }
    case "detectron2": {
      const d2 = toDetectron2(net, family);
      writeDetectron2Pkl(opts.output, d2.weights);
      return {
        ...result,
        renamed: d2.renamed,
        dropped: [...dropped, ...d2.dropped],
        tensors: d2.weights.size,
      };
    }
  }
}
