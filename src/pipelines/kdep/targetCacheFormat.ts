// The teacher-target cache on disk. A frozen teacher's SVD-projected target for an image
// depends only on the image's augmentation, which is a function of (seed, epoch, index);
// so one teacher pass per epoch can feed every later student.
//
//   CACHE/manifest.json          what the targets depend on (TargetManifest)
//   CACHE/epoch-0003.bin         float16 rows [images, k], row i = dataset index i
//   CACHE/epoch-0003.sums.json   crc32 of each chunk of `chunkImages` rows
//   CACHE/epoch-0003.bin.part    an epoch being written, with epoch-0003.progress.json
//
// Rows hold z = (f_T − μ)·V[:, :k] before PTS, so one cache serves any PTS setting and any
// student with a feature of at most k dims (its target is the first columns).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { SVD_FILES } from "./svdPass.js";

export const TARGET_FORMAT = "kdep-targets/1";
export const MANIFEST_FILE = "manifest.json";
const ROW_DTYPE = "float16";
export const ROW_ITEM_BYTES = 2;

/** A target cache's `manifest.json`: the settings a cache was built with, checked by every
 *  later build and by `distill --targets`. */
export interface TargetManifest {
  format: typeof TARGET_FORMAT;
  /** Architecture and weights hash of the teacher ("resnet50@<sha256>"). */
  teacher: string;
  /** sha256 over the SVD's V.npy and mean.npy. */
  svd: string;
  seed: number;
  transform: TransformStep[];
  images: { count: number; hash: string };
  k: number;
  epochs: number;
  /** Rows per chunk: one teacher batch, one checksum. */
  chunkImages: number;
  dtype: typeof ROW_DTYPE;
}

/** Per-epoch checksums (complete epochs) or progress (the epoch being written). */
export interface EpochSums {
  chunkImages: number;
  crc32: number[];
}

export const epochFile = (dir: string, e: number) =>
  join(dir, `epoch-${String(e).padStart(4, "0")}.bin`);
export const sumsFile = (dir: string, e: number) =>
  epochFile(dir, e).replace(/\.bin$/, ".sums.json");
export const partFile = (dir: string, e: number) => `${epochFile(dir, e)}.part`;
export const progressFile = (dir: string, e: number) =>
  epochFile(dir, e).replace(/\.bin$/, ".progress.json");

export function newManifest(m: Omit<TargetManifest, "format" | "dtype">): TargetManifest {
  return { format: TARGET_FORMAT, ...m, dtype: ROW_DTYPE };
}

/** What a teacher-free distillation must agree with; absent fields are not checked. */
export interface TargetExpectations {
  teacher?: string;
  svd?: string;
  seed?: number;
  transform?: TransformStep[];
  images?: { count: number; hash: string };
  /** The student's feature dims: the cache needs at least as many. */
  k?: number;
  /** Epochs the run trains: the cache needs at least as many. */
  epochs?: number;
}

/** One line per disagreement, naming the setting, the cache's value and the wanted one. */
export function manifestMismatches(m: TargetManifest, want: TargetExpectations): string[] {
  const out: string[] = [];
  const show = (v: unknown) => JSON.stringify(v);
  const same = (key: string, have: unknown, w: unknown) => {
    if (w !== undefined && show(have) !== show(w))
      out.push(`${key}: the cache has ${show(have)}, this run ${show(w)}`);
  };
  same("teacher", m.teacher, want.teacher);
  same("svd", m.svd, want.svd);
  same("seed", m.seed, want.seed);
  same("augmentation", m.transform, want.transform);
  same("images", m.images, want.images);
  if (want.k !== undefined && m.k < want.k)
    out.push(`k: the cache holds ${m.k} dims, this student needs ${want.k}`);
  if (want.epochs !== undefined && m.epochs < want.epochs)
    out.push(`epochs: the cache holds ${m.epochs}, this run trains ${want.epochs}`);
  return out;
}

/** sha256 of the files that define the projection (V and μ), as hex. */
export function svdHash(svdDir: string): string {
  const h = createHash("sha256");
  for (const f of [SVD_FILES.V, SVD_FILES.mean]) h.update(readFileSync(join(svdDir, f)));
  return h.digest("hex");
}

/**
 * sha256 of the image list and labels, in dataset order (row i of every epoch is image i).
 * Files are named by class folder and file name, so a moved dataset keeps its hash.
 */
export function imageListHash(data: Dataset): { count: number; hash: string } {
  const h = createHash("sha256");
  const spec = data.spec;
  h.update(new Uint8Array(spec.labels.buffer, spec.labels.byteOffset, spec.labels.byteLength));
  if (spec.source.kind === "files") {
    for (const p of spec.source.paths) h.update(`${basename(dirname(p))}/${basename(p)}\n`);
  } else {
    const s = spec.source;
    h.update(`${s.width}x${s.height}x${s.channels}:${s.layout}\n`);
    h.update(s.data);
  }
  return { count: data.length, hash: h.digest("hex") };
}
