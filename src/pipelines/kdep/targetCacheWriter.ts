// `kdep targets`: one teacher pass per epoch over the augmentation `distill` draws for that
// epoch, storing every image's projected target (targetCacheFormat.ts). Each chunk is one
// teacher batch: written with a positioned write, fsync'd, then recorded in the epoch's
// progress file (atomic). A killed or Ctrl-C'd build resumes at the first unrecorded chunk
// and, the batches being the same, writes the same bytes as an uninterrupted build.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Dataset } from "../../data/datasets/dataset.js";
import { type Batch, DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { atomicWriteFile, removeStaleTemps } from "../../io/atomicWrite.js";
import { toRaw } from "../../io/tensors.js";
import type { Backbone } from "../../models/backbone.js";
import { noGrad, tidy, withTightCpuCache } from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import { pollSignals, StopSignal } from "../common/interrupt.js";
import { Progress } from "../common/runLog.js";
import type { SvdBasis } from "./alignment.js";
import { freezeTeacher } from "./frozenTeacher.js";
import {
  type EpochSums,
  epochFile,
  imageListHash,
  MANIFEST_FILE,
  manifestMismatches,
  newManifest,
  partFile,
  progressFile,
  ROW_ITEM_BYTES,
  sumsFile,
  type TargetManifest,
} from "./targetCacheFormat.js";

export interface TargetsInputs {
  /** ResNet or MobileNetV2, readied in place by freezeTeacher (BN folded into its convs,
   *  channels-last on the CPU): from here on an inference-only model. */
  teacher: Backbone;
  /** Architecture plus weights hash, as `kdep svd` and `distill` name the teacher. */
  teacherId: string;
  svd: SvdBasis;
  /** svdHash() of the SVD folder. */
  svdHash: string;
  data: Dataset;
  transform: TransformStep[];
  out: string;
  epochs: number;
  /** Target dims kept (≤ the teacher's); students with fewer dims read the first ones. */
  k: number;
  /** Teacher batch = rows per checksummed chunk (default 256). */
  batchSize?: number;
  workers?: number;
  seed?: number;
  device?: string;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop after this many chunks, as Ctrl-C does. */
  stopAfterChunks?: number;
}

export interface TargetsResult {
  manifest: TargetManifest;
  stopped: boolean;
  /** Chunks computed by this call (0 when the cache was complete). */
  chunks: number;
  seconds: number;
}

/** Writes the manifest, or checks that an existing cache was built with these settings. */
function openManifest(o: TargetsInputs, chunkImages: number, seed: number): TargetManifest {
  const m = newManifest({
    teacher: o.teacherId,
    svd: o.svdHash,
    seed,
    transform: o.transform,
    images: imageListHash(o.data),
    k: o.k,
    epochs: o.epochs,
    chunkImages,
  });
  const path = join(o.out, MANIFEST_FILE);
  if (existsSync(path)) {
    const old = JSON.parse(readFileSync(path, "utf8")) as TargetManifest;
    const bad = manifestMismatches(old, { ...m, k: undefined, epochs: undefined });
    if (old.k !== m.k) bad.push(`k: the cache has ${old.k}, this build ${m.k}`);
    if (old.chunkImages !== m.chunkImages)
      bad.push(
        `batch size (chunk rows): the cache has ${old.chunkImages}, this build ${m.chunkImages}`,
      );
    if (bad.length) {
      throw new Error(
        `${o.out} holds a target cache built with other settings (${bad.join("; ")}): use another --out, or delete it to rebuild`,
      );
    }
    // More epochs extend the cache; fewer keep the ones already written.
    if (old.epochs >= m.epochs) return old;
  }
  mkdirSync(o.out, { recursive: true });
  atomicWriteFile(path, Buffer.from(`${JSON.stringify(m, null, 2)}\n`));
  return m;
}

/** The chunks recorded as written, with the .part file cut back to exactly them. */
function resumeEpoch(dir: string, e: number, chunkImages: number, rowBytes: number) {
  const prog = progressFile(dir, e);
  // Temp files of a writer killed inside atomicWriteFile.
  removeStaleTemps(prog);
  removeStaleTemps(sumsFile(dir, e));
  const sums: EpochSums = existsSync(prog)
    ? (JSON.parse(readFileSync(prog, "utf8")) as EpochSums)
    : { chunkImages, crc32: [] };
  const fd = openSync(partFile(dir, e), existsSync(partFile(dir, e)) ? "r+" : "w+");
  const recorded = sums.crc32.length * chunkImages * rowBytes;
  if (fstatSync(fd).size < recorded) {
    // Only possible if the file was altered by hand: start the epoch again.
    sums.crc32 = [];
    ftruncateSync(fd, 0);
  } else ftruncateSync(fd, recorded);
  return { fd, sums };
}

export async function runTargets(o: TargetsInputs): Promise<TargetsResult> {
  return withTightCpuCache(() => targetsPass(o));
}

async function targetsPass(o: TargetsInputs): Promise<TargetsResult> {
  const t0 = Date.now();
  const teacher = o.teacher;
  const device = o.device ?? "cpu";
  teacher.to(device);
  freezeTeacher(teacher); // inference only from here: BN folded, channels-last on the CPU
  const [dt, cols] = o.svd.V.shape;
  if (!(Number.isInteger(o.k) && o.k >= 1 && o.k <= cols))
    throw new Error(`--k must be an integer in [1, ${cols}] (the SVD basis), got ${o.k}`);
  if (dt !== teacher.featureDim)
    throw new Error(
      `The SVD basis is ${dt}-dimensional but the teacher's feature ${teacher.featureDim}`,
    );
  const chunkImages = o.batchSize ?? 256;
  const seed = o.seed ?? 0;
  const manifest = openManifest(o, chunkImages, seed);
  removeStaleTemps(join(o.out, MANIFEST_FILE));
  const Vk = o.svd.V.narrow(1, 0, o.k).float().contiguous().to({ device });
  const mean = o.svd.mean.float().reshape(1, dt).to({ device });
  const rowBytes = o.k * ROW_ITEM_BYTES;
  const loader = new DataLoader(o.data, {
    batchSize: chunkImages,
    transform: o.transform,
    shuffle: false,
    seed,
    numWorkers: o.workers ?? 2,
    labelDtype: "int64",
  });
  const ctx: EpochWriter = {
    o,
    loader,
    project: (batch) =>
      tidy(() =>
        noGrad(() => {
          const { images } = toTensors(batch, device);
          const f = teacher.forwardHead(teacher.forwardFeatures(images), { preLogits: true });
          return toRaw(f.float().sub(mean).matmul(Vk).to("float16")).data;
        }),
      ),
    chunkImages,
    rowBytes,
    progress: new Progress("targets", o.progress ?? "auto"),
    stop: new StopSignal("finishing this chunk… (again: quit now; the cache stays resumable)"),
    chunks: 0,
  };
  try {
    for (let e = 0; e < o.epochs && !ctx.stop.requested; e++) await writeEpoch(ctx, e);
  } finally {
    ctx.progress.stop();
    ctx.stop.dispose();
    await loader.close();
    Vk.dispose();
    mean.dispose();
  }
  const seconds = (Date.now() - t0) / 1000;
  return { manifest, stopped: ctx.stop.requested, chunks: ctx.chunks, seconds };
}

interface EpochWriter {
  o: TargetsInputs;
  loader: DataLoader;
  /** A batch's float16 target bytes. */
  project: (batch: Batch) => Uint8Array;
  chunkImages: number;
  rowBytes: number;
  progress: Progress;
  stop: StopSignal;
  /** Chunks written by this call, all epochs. */
  chunks: number;
}

/** Writes (or finishes) epoch e; a stop request ends it after the current chunk. */
async function writeEpoch(w: EpochWriter, e: number): Promise<void> {
  const { o, chunkImages, rowBytes } = w;
  if (existsSync(epochFile(o.out, e)) && existsSync(sumsFile(o.out, e))) {
    rmSync(progressFile(o.out, e), { force: true });
    removeStaleTemps(progressFile(o.out, e));
    return;
  }
  const total = w.loader.batchesPerEpoch;
  const { fd, sums } = resumeEpoch(o.out, e, chunkImages, rowBytes);
  try {
    let c = sums.crc32.length;
    const [t0, c0] = [Date.now(), c];
    const state = (imgPerSec: number) =>
      ({ epoch: e + 1, epochs: o.epochs, step: c, steps: total, imgPerSec, loss: 0 }) as const;
    w.progress.start(state(0));
    for await (const batch of w.loader.epoch(e, undefined, c)) {
      const bytes = w.project(batch);
      // Data, fsync, then the record: a kill leaves at most an unrecorded tail, cut on resume.
      writeAll(fd, bytes, c * chunkImages * rowBytes);
      fsyncSync(fd);
      sums.crc32.push(crc32(bytes));
      atomicWriteFile(progressFile(o.out, e), Buffer.from(JSON.stringify(sums)), {
        syncDir: false,
      });
      c++;
      w.chunks++;
      w.progress.update(state(((c - c0) * chunkImages) / Math.max(1e-3, (Date.now() - t0) / 1000)));
      if (o.stopAfterChunks !== undefined && w.chunks >= o.stopAfterChunks)
        w.stop.request("stopAfterChunks");
      await pollSignals();
      if (w.stop.requested) break;
    }
    if (c === total) {
      atomicWriteFile(sumsFile(o.out, e), Buffer.from(`${JSON.stringify(sums)}\n`));
      renameSync(partFile(o.out, e), epochFile(o.out, e));
      rmSync(progressFile(o.out, e), { force: true });
    }
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}
