// DataLoader: seeded shuffling, batching, N worker threads decoding and augmenting in
// parallel, a bounded prefetch queue, batches delivered in order.
//
//   const loader = new DataLoader(dataset, { batchSize: 64, shuffle: true, seed: 0,
//     numWorkers: 2, transform: kdepTrainTransform() });
//   for await (const batch of loader.epoch(e)) train(batch);   // sync, CPU-heavy: fine
//   await loader.close();
//
// The training loop runs libtorch synchronously on the main thread. Workers are
// separate threads, so they keep decoding while it is busy: before each batch is handed
// out, up to `prefetch` further batches are already queued on the workers.
//
// Reproducibility: sample i of epoch e is augmented with Rng(seed, e, i), and jobs are
// plain index lists, so batches are identical for any numWorkers (0 = main thread).
//
// Corrupt images: by default the epoch fails with an error naming the file. With
// skipBadImages, an undecodable image is replaced by another index drawn from
// Rng(seed, epoch, index) — the batch keeps its size (so shapes stay static) and its
// `indices` say which samples it really holds; skipped files are listed in the batch and
// in the end-of-epoch report (`onEpochEnd`, by default a console.warn when any).
//
// Segmentation: with a joint transform (segTrainTransform / segEvalTransform) on a
// dataset with label masks, each batch also carries `masks`, int64 [N, H, W] with 255 as
// the ignore label; image and mask get the same random geometry (segBatch.ts).
//
// Shutdown: on an error or an aborted signal the workers are stopped before the error
// propagates. Idle workers are unref'd, so a finished program exits even without close().
import { Worker } from "node:worker_threads";
import type { RawBatch, SkippedSample } from "./batch.js";
import type { Dataset } from "./datasets/dataset.js";
import { epochIndices, toBatches } from "./sampler.js";
import { type AnyBatchConfig, buildAnyBatch } from "./segBatch.js";
import { splitPipeline, type TransformStep } from "./transforms/pipeline.js";
import { isSegTransform, type SegTransform, splitSegTransform } from "./transforms/segmentation.js";
import type { FromWorker, ToWorker } from "./worker.js";

/** Options of a {@link DataLoader}. */
export interface LoaderOptions {
  batchSize: number;
  /** A classification pipeline, or a joint image + mask one for segmentation datasets. */
  transform: TransformStep[] | SegTransform;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Worker threads; 0 runs everything on the main thread. */
  numWorkers?: number;
  /** Batches queued ahead of the consumer (default 2 per worker). */
  prefetch?: number;
  distributed?: { rank: number; worldSize: number; dropLast?: boolean };
  skipBadImages?: boolean;
  labelDtype?: "int32" | "int64";
  /** Layout of uint8 batches, produced when the transform has no toTensor step. */
  uint8Layout?: "hwc" | "chw";
  onEpochEnd?: (report: EpochReport) => void;
}

/**
 * One batch from {@link DataLoader.epoch}: images as a flat typed array with its shape, labels,
 * dataset indices.
 */
export interface Batch {
  /** float32 NCHW normalised, or uint8 NHWC/NCHW raw (normalise on the engine side). */
  images: Float32Array | Uint8Array;
  /**
   * Hands `images`' buffer back to the loader, which fills it with a later batch (no
   * allocation, no page faults: ~10% of a worker's time for 224² float batches). Call
   * it once the pixels are copied (e.g. into a tensor); the batch must not be read
   * afterwards. Optional: unreleased batches are garbage-collected as usual.
   */
  release(): void;
  shape: number[];
  labels: Int32Array | BigInt64Array;
  /** Segmentation: label masks, int64 [N, H, W] (H, W as in `shape`), 255 = ignore. */
  masks?: BigInt64Array;
  /** Dataset indices of the samples, after any bad-image replacement. */
  indices: Int32Array;
  skipped: SkippedSample[];
}

/** What one epoch of a {@link DataLoader} delivered, including images skipped as undecodable. */
export interface EpochReport {
  epoch: number;
  batches: number;
  samples: number;
  skipped: SkippedSample[];
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, { resolve: (b: RawBatch) => void; reject: (e: Error) => void }>;
}

/**
 * Seeded shuffling, batching and worker-thread decoding/augmentation; batches arrive in order and
 * are identical for any number of workers.
 */
export class DataLoader {
  readonly dataset: Dataset;
  private readonly opts: Required<Omit<LoaderOptions, "distributed" | "onEpochEnd">> &
    Pick<LoaderOptions, "distributed" | "onEpochEnd">;
  private readonly config: AnyBatchConfig;
  private slots: WorkerSlot[] = [];
  private nextJobId = 0;
  /** Released image buffers, and the bytes one sample took in the latest batch. */
  private pool: ArrayBuffer[] = [];
  private sampleBytes = 0;

  constructor(dataset: Dataset, options: LoaderOptions) {
    const numWorkers = options.numWorkers ?? 0;
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(
        `Expected a positive integer for batchSize but received ${options.batchSize}`,
      );
    }
    if (!Number.isInteger(numWorkers) || numWorkers < 0) {
      throw new RangeError(
        `Expected a non-negative integer for numWorkers but received ${numWorkers}`,
      );
    }
    // Validates step order now, not in a worker.
    if (isSegTransform(options.transform)) {
      if (!dataset.spec.masks) {
        throw new Error(
          `${dataset.spec.name} has no label masks; a segmentation transform needs a ` +
            "segmentation dataset (VOC2012, Cityscapes, ADE20K)",
        );
      }
      splitSegTransform(options.transform);
    } else splitPipeline(options.transform);
    this.dataset = dataset;
    this.opts = {
      batchSize: options.batchSize,
      transform: options.transform,
      shuffle: options.shuffle ?? false,
      seed: options.seed ?? 0,
      dropLast: options.dropLast ?? false,
      numWorkers,
      prefetch: Math.max(1, options.prefetch ?? 2 * Math.max(1, numWorkers)),
      skipBadImages: options.skipBadImages ?? false,
      labelDtype: options.labelDtype ?? "int32",
      uint8Layout: options.uint8Layout ?? "hwc",
      distributed: options.distributed,
      onEpochEnd: options.onEpochEnd,
    };
    const common = {
      spec: dataset.spec,
      seed: this.opts.seed,
      uint8Layout: this.opts.uint8Layout,
      labelDtype: this.opts.labelDtype,
      skipBadImages: this.opts.skipBadImages,
    };
    const t = this.opts.transform;
    this.config = isSegTransform(t) ? { ...common, transform: t } : { ...common, transform: t };
  }

  /** The index batches of an epoch (what `epoch(e)` will load). */
  plan(epoch: number): Int32Array[] {
    const o = this.opts;
    const idx = epochIndices(this.dataset.length, epoch, o);
    return toBatches(idx, o.batchSize, o.dropLast);
  }

  get batchesPerEpoch(): number {
    return this.plan(0).length;
  }

  /** Batches of an epoch; `startBatch` skips the first ones without loading them (resume). */
  async *epoch(
    epoch: number,
    signal?: AbortSignal,
    startBatch = 0,
  ): AsyncGenerator<Batch, void, undefined> {
    const batches = this.plan(epoch).slice(startBatch);
    const report: EpochReport = { epoch, batches: 0, samples: 0, skipped: [] };
    const inFlight = new Map<number, Promise<RawBatch>>();
    let dispatched = 0;
    const run = (indices: Int32Array): Promise<RawBatch> =>
      this.opts.numWorkers === 0
        ? buildAnyBatch(this.config, epoch, indices, this.takeBuffer(indices.length))
        : this.submit(epoch, indices);
    try {
      signal?.throwIfAborted();
      if (this.opts.numWorkers > 0) this.startWorkers();
      for (let k = 0; k < batches.length; k++) {
        // Keep `prefetch` batches queued beyond the one being handed out, so workers
        // stay busy while the consumer works on this one.
        while (dispatched < batches.length && dispatched <= k + this.opts.prefetch) {
          const p = run(batches[dispatched]);
          p.catch(() => {}); // observed when awaited; avoids an unhandled rejection on early exit
          inFlight.set(dispatched++, p);
        }
        const raw = await abortable(inFlight.get(k)!, signal);
        inFlight.delete(k);
        this.sampleBytes = raw.images.byteLength / Math.max(1, raw.shape[0]);
        const batch = wrap(raw, this.opts.labelDtype, (buf) => this.recycle(buf));
        report.batches++;
        report.samples += raw.indices.length;
        report.skipped.push(...raw.skipped);
        yield batch;
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    if (this.opts.onEpochEnd) this.opts.onEpochEnd(report);
    else if (report.skipped.length > 0) {
      console.warn(
        `epoch ${epoch}: skipped ${report.skipped.length} undecodable image(s): ` +
          report.skipped
            .slice(0, 5)
            .map((s) => s.where)
            .join(", ") +
          (report.skipped.length > 5 ? ", ..." : ""),
      );
    }
  }

  /** Stops the workers. The loader can still be used; workers restart lazily. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) failAll(s, new Error("DataLoader closed"));
    await Promise.all(slots.map((s) => stopWorker(s.worker)));
  }

  private startWorkers(): void {
    while (this.slots.length < this.opts.numWorkers) {
      const worker = new Worker(new URL("./worker.js", import.meta.url), {
        // --input-type (node -e scripts) is refused for file workers; drop it.
        execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")),
      });
      const slot: WorkerSlot = { worker, pending: new Map() };
      worker.unref();
      worker.on("message", (msg: FromWorker) => {
        const p = slot.pending.get(msg.id);
        if (!p) return; // a job of a closed loader
        slot.pending.delete(msg.id);
        if (slot.pending.size === 0) worker.unref();
        if (msg.type === "batch") p.resolve(msg.batch);
        else {
          const e = new Error(msg.message);
          if (msg.stack) e.stack = `${msg.message}\n(in loader worker)\n${msg.stack}`;
          p.reject(e);
        }
      });
      const die = (err: Error): void => {
        this.slots = this.slots.filter((s) => s !== slot);
        failAll(slot, err);
      };
      worker.on("error", (err) =>
        die(new Error(`DataLoader worker crashed: ${err.message}`, { cause: err })),
      );
      worker.on("exit", (code) => die(new Error(`DataLoader worker exited with code ${code}`)));
      const msg: ToWorker = { type: "config", config: this.config };
      worker.postMessage(msg);
      this.slots.push(slot);
    }
  }

  /** A released buffer of the size a batch of n samples needs, if any. */
  private takeBuffer(n: number): ArrayBuffer | undefined {
    const bytes = n * this.sampleBytes;
    const i = this.pool.findIndex((b) => b.byteLength === bytes);
    return i < 0 ? undefined : this.pool.splice(i, 1)[0];
  }

  private recycle(buf: ArrayBuffer): void {
    // More than the batches in flight could use would only hold memory.
    if (buf.byteLength > 0 && this.pool.length < this.opts.prefetch + 2) this.pool.push(buf);
  }

  private submit(epoch: number, indices: Int32Array): Promise<RawBatch> {
    if (this.slots.length === 0) return Promise.reject(new Error("DataLoader has no live worker"));
    // The least-loaded worker; ties go to the lowest slot. Which worker builds a batch
    // never changes its content.
    let slot = this.slots[0];
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextJobId++;
    return new Promise<RawBatch>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      const reuse = this.takeBuffer(indices.length);
      const msg: ToWorker = { type: "job", id, epoch, indices, reuse };
      slot.worker.postMessage(msg, reuse ? [reuse] : []);
    });
  }
}

/**
 * Asks a worker to exit once its current job ends, and terminates it only if it has not
 * within STOP_GRACE_MS. worker.terminate() can interrupt node:zlib between creating a stream
 * and initialising it (PNG decoding), and Node then aborts the whole process while tearing
 * the worker down ("close before init"; seen in CI).
 */
function stopWorker(worker: Worker): Promise<void> {
  if (worker.threadId < 0) return Promise.resolve(); // already gone
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate().then(() => resolve()), STOP_GRACE_MS);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    const msg: ToWorker = { type: "stop" };
    worker.postMessage(msg);
  });
}

const STOP_GRACE_MS = 30_000;

function failAll(slot: WorkerSlot, err: Error): void {
  for (const p of slot.pending.values()) p.reject(err);
  slot.pending.clear();
}

function wrap(
  raw: RawBatch,
  labelDtype: "int32" | "int64",
  recycle: (buf: ArrayBuffer) => void,
): Batch {
  const images =
    raw.imagesDtype === "float32" ? new Float32Array(raw.images) : new Uint8Array(raw.images);
  const labels =
    labelDtype === "int64" ? new BigInt64Array(raw.labels) : new Int32Array(raw.labels);
  const masks = raw.masks ? new BigInt64Array(raw.masks) : undefined;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    recycle(raw.images);
  };
  return {
    images,
    shape: raw.shape,
    labels,
    masks,
    indices: raw.indices,
    skipped: raw.skipped,
    release,
  };
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
