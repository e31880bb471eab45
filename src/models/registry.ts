// createModel(name, opts) over one table of the zoo (timm's create_model). Options are data:
// an option the model does not know is refused, naming the ones it knows.
import type { Backbone } from "./backbone.js";
import { MobileNetV2, type MobileNetV2Options } from "./mobilenetv2.js";
import { type ResNetName, type ResNetOptions, resnet } from "./resnet.js";

/** Options of {@link createModel}; each model refuses the ones it does not know. */
export type ModelOptions = ResNetOptions & MobileNetV2Options;

interface Entry {
  family: "resnet" | "mobilenet_v2";
  /** Length of the pooled feature at the default width. */
  featureDim: number;
  create: (opts: ModelOptions) => Backbone;
}

const COMMON = ["numClasses", "preReluFeature", "channelsLast"];
const OPTION_KEYS: Record<Entry["family"], readonly string[]> = {
  resnet: [...COMMON, "replaceStrideWithDilation", "dilationStyle", "zeroInitResidual", "width"],
  mobilenet_v2: [...COMMON, "widthMult", "roundNearest", "dropout"],
};

const res = (name: ResNetName, featureDim: number): Entry => ({
  family: "resnet",
  featureDim,
  create: (o) => resnet(name, o),
});

const MODELS = {
  resnet18: res("resnet18", 512),
  resnet34: res("resnet34", 512),
  resnet50: res("resnet50", 2048),
  resnet101: res("resnet101", 2048),
  resnet152: res("resnet152", 2048),
  mobilenet_v2: {
    family: "mobilenet_v2",
    featureDim: 1280,
    create: (o) => new MobileNetV2(o),
  },
} satisfies Record<string, Entry>;

/** Names {@link createModel} accepts. */
export type ModelName = keyof typeof MODELS;

/** Whether `name` is a model createModel builds. */
export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODELS, name);
}

/** The error for a name that is not a model, listing the ones there are. */
export function unknownModelMessage(name: string): string {
  return `Unknown model "${name}"; expected one of ${Object.keys(MODELS).join(", ")}`;
}

function entry(name: string): Entry {
  const e = (MODELS as Record<string, Entry>)[name];
  if (!e) throw new Error(unknownModelMessage(name));
  return e;
}

/** Builds a model with torchvision's keys and init; unknown option keys are an error. */
export function createModel(name: ModelName | string, opts: ModelOptions = {}): Backbone {
  const e = entry(name);
  const known = OPTION_KEYS[e.family];
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      throw new Error(`Unknown option "${k}" for ${name}; expected one of ${known.join(", ")}`);
    }
  }
  return e.create(opts);
}

/** One entry of {@link listModels}. */
export interface ModelInfo {
  name: ModelName;
  family: Entry["family"];
  featureDim: number;
}

/** Every model of the zoo with its family and pooled-feature size. */
export function listModels(): ModelInfo[] {
  return Object.entries(MODELS).map(([name, e]) => ({
    name: name as ModelName,
    family: e.family as Entry["family"],
    featureDim: e.featureDim,
  }));
}

/** Pooled-feature length of a model at its default width (KDEP's student dimension k). */
export function featureDim(name: ModelName | string): number {
  return entry(name).featureDim;
}
