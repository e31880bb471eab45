// Whole images of variable size (detection) decoded on worker threads, so the training
// loop's thread only turns bytes into tensors. Jobs are lists of files; results come back
// in submission order and are the same bytes for any number of workers (0 = main thread).
import { Worker } from "node:worker_threads";
import { decodeRgb } from "./image.js";

/** One decoded image: RGB bytes, HWC. */
export interface DecodedRgb {
  data: Uint8Array;
  width: number;
  height: number;
}

export type ToDecodeWorker = { type: "job"; id: number; files: string[] } | { type: "stop" };
export type FromDecodeWorker =
  | { type: "done"; id: number; images: DecodedRgb[] }
  | { type: "error"; id: number; message: string };

/** Decodes files one after another on the calling thread. */
export async function decodeFiles(files: readonly string[]): Promise<DecodedRgb[]> {
  const out: DecodedRgb[] = [];
  for (const f of files) {
    const img = await decodeRgb(f, f);
    out.push({ data: img.data, width: img.width, height: img.height });
  }
  return out;
}

interface Pending {
  resolve: (v: DecodedRgb[]) => void;
  reject: (e: Error) => void;
}

/** A fixed set of decoding threads, started on first use; jobs go round-robin. */
export class DecodePool {
  readonly numWorkers: number;
  private workers: Worker[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(numWorkers: number) {
    if (!Number.isInteger(numWorkers) || numWorkers < 0) {
      throw new RangeError(
        `Expected a non-negative integer for workers but received ${numWorkers}`,
      );
    }
    this.numWorkers = numWorkers;
  }

  decode(files: readonly string[]): Promise<DecodedRgb[]> {
    if (this.numWorkers === 0) return decodeFiles(files);
    this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const worker = this.workers[id % this.workers.length];
      worker.ref();
      const msg: ToDecodeWorker = { type: "job", id, files: [...files] };
      worker.postMessage(msg);
    });
  }

  /** Stops the threads once their current job ends; pending jobs fail. */
  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    this.failAll(new Error("DecodePool closed"));
    await Promise.all(workers.map(stopWorker));
  }

  private start(): void {
    while (this.workers.length < this.numWorkers) {
      const worker = new Worker(new URL("./detDecodeWorker.js", import.meta.url), {
        execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")),
      });
      worker.unref();
      worker.on("message", (msg: FromDecodeWorker) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (this.pending.size === 0) for (const w of this.workers) w.unref();
        if (msg.type === "done") p.resolve(msg.images);
        else p.reject(new Error(msg.message));
      });
      worker.on("error", (err) =>
        this.failAll(new Error(`decoding thread crashed: ${err.message}`, { cause: err })),
      );
      worker.on("exit", (code) => {
        if (!this.workers.includes(worker)) return; // closed
        this.workers = this.workers.filter((w) => w !== worker);
        this.failAll(new Error(`decoding thread exited with code ${code}`));
      });
      this.workers.push(worker);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * Asks a thread to exit once its current job ends (terminating one mid-decode can abort
 * Node: see the loader's stopWorker), and terminates it only if it has not within 30 s.
 */
function stopWorker(w: Worker): Promise<void> {
  if (w.threadId < 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => void w.terminate().then(() => resolve()), 30_000);
    w.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    const msg: ToDecodeWorker = { type: "stop" };
    w.postMessage(msg);
  });
}
