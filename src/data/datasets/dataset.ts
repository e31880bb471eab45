// The one dataset shape every reader produces.
//
// A dataset is *plain data* (DatasetSpec): class names, one label per sample, and where
// each sample's pixels are — encoded files on disk, or fixed-size raw pixels in memory
// (CIFAR, MNIST) kept in a SharedArrayBuffer so that loader workers read them without a
// copy. The spec is what the loader posts to its worker threads; decoding happens there,
// lazily, one sample at a time.
import {
  type DecodedImage,
  decodeRgb,
  grayToRgb,
  type ImageSource,
  openImage,
  wholeImage,
} from "../image.js";
import { readMaskPng } from "../png.js";

/** Fixed-size raw 8-bit images stored back to back. */
export interface PixelSource {
  kind: "pixels";
  data: Uint8Array; // ideally backed by a SharedArrayBuffer
  width: number;
  height: number;
  channels: number; // 1 or 3
  layout: "hwc" | "chw"; // CIFAR stores planes (chw); decoded images are hwc
}

/** One encoded image file (JPEG, PNG, WebP) per sample. */
export interface FileSource {
  kind: "files";
  paths: string[];
}

/** The plain data a {@link Dataset} holds; it is what the loader posts to its worker threads. */
export interface DatasetSpec {
  name: string;
  classes: string[];
  /** Class index per sample; -1 where a sample has no class (segmentation). */
  labels: Int32Array;
  source: PixelSource | FileSource;
  /** Segmentation only: one label-mask PNG per sample, and how to map its values. */
  masks?: string[];
  maskMap?: "identity" | "ade20k";
}

/** One decoded sample with its label. */
export interface Sample {
  label: number;
  /** The file the sample comes from, or `name[index]` for in-memory sources. */
  where: string;
  load(): Promise<DecodedImage>;
  loadMask?(): Promise<DecodedImage>;
}

/**
 * A dataset as plain data (class names, labels, where each sample's pixels are), decoded lazily by
 * the {@link DataLoader}.
 */
export class Dataset {
  readonly spec: DatasetSpec;

  constructor(spec: DatasetSpec) {
    const n = spec.labels.length;
    const m = spec.source.kind === "files" ? spec.source.paths.length : pixelCount(spec.source);
    if (m !== n) {
      throw new Error(`${spec.name}: expected ${n} images for ${n} labels, got ${m}`);
    }
    if (spec.masks && spec.masks.length !== n) {
      throw new Error(`${spec.name}: expected ${n} masks, got ${spec.masks.length}`);
    }
    this.spec = spec;
  }

  get length(): number {
    return this.spec.labels.length;
  }

  get classes(): string[] {
    return this.spec.classes;
  }

  get(i: number): Sample {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`${this.spec.name}: index ${i} out of range [0, ${this.length})`);
    }
    const spec = this.spec;
    const masks = spec.masks;
    return {
      label: spec.labels[i],
      where: whereOf(spec, i),
      load: () => loadImage(spec, i),
      loadMask: masks ? () => loadMask(spec, i) : undefined,
    };
  }

  /** Class counts, handy for checking a split. */
  countsPerClass(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const l of this.spec.labels) if (l >= 0) counts[l]++;
    return counts;
  }
}

function pixelCount(s: PixelSource): number {
  return s.data.length / (s.width * s.height * s.channels);
}

export function whereOf(spec: DatasetSpec, i: number): string {
  return spec.source.kind === "files" ? spec.source.paths[i] : `${spec.name}[${i}]`;
}

/** Opens sample i; its pixels are decoded on demand (a crop decodes only its region). */
export async function openSample(spec: DatasetSpec, i: number): Promise<ImageSource> {
  const src = spec.source;
  if (src.kind === "files") return openImage(src.paths[i], src.paths[i]);
  return wholeImage(await loadImage(spec, i));
}

/** Decodes sample i to interleaved RGB. Runs in the loader workers. */
export async function loadImage(spec: DatasetSpec, i: number): Promise<DecodedImage> {
  const src = spec.source;
  if (src.kind === "files") return decodeRgb(src.paths[i], src.paths[i]);
  const { width: w, height: h, channels: c } = src;
  const size = w * h * c;
  const raw = src.data.subarray(i * size, (i + 1) * size);
  let img: DecodedImage;
  if (src.layout === "hwc" || c === 1) {
    img = { data: raw.slice(), width: w, height: h, channels: c };
  } else {
    const data = new Uint8Array(size);
    const plane = w * h;
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) data[p * c + k] = raw[k * plane + p];
    }
    img = { data, width: w, height: h, channels: c };
  }
  return grayToRgb(img);
}

/** Decodes sample i's label mask (one channel, 255 = ignore). */
export async function loadMask(spec: DatasetSpec, i: number): Promise<DecodedImage> {
  if (!spec.masks) throw new Error(`${spec.name} has no masks`);
  const mask = await readMaskPng(spec.masks[i]);
  if (spec.maskMap === "ade20k") {
    // ADE20K SceneParsing: 0 is "other", classes are 1..150. Shift so classes are
    // 0..149 and "other" becomes the ignore label 255 (uint8 wrap-around of 0 - 1).
    const d = mask.data;
    for (let k = 0; k < d.length; k++) d[k] = (d[k] - 1) & 255;
  }
  return mask;
}

/** Copies bytes into a SharedArrayBuffer so workers can read them without a copy. */
export function toShared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}
