// Loader worker thread: receives the batch configuration once, then batch jobs; replies
// with batches whose buffers are transferred, or with an error naming the file.
import { parentPort } from "node:worker_threads";
import { ImageDecodeError } from "./image.js";
import { type AnyBatchConfig, buildAnyBatch } from "./segBatch.js";

export type ToWorker =
  | { type: "config"; config: AnyBatchConfig }
  | { type: "stop" }
  | { type: "job"; id: number; epoch: number; indices: Int32Array; reuse?: ArrayBuffer };

export type FromWorker =
  | { type: "batch"; id: number; batch: import("./batch.js").RawBatch }
  | { type: "error"; id: number; message: string; file?: string; stack?: string };

const port = parentPort;
if (!port) throw new Error("src/data/worker.ts must run in a worker thread");

let config: AnyBatchConfig | null = null;
// Jobs run one after another, so a worker's output order is its input order.
let chain: Promise<void> = Promise.resolve();
let stopping = false;

port.on("message", (msg: ToWorker) => {
  if (msg.type === "config") {
    config = msg.config;
    return;
  }
  if (msg.type === "stop") {
    // Queued jobs are dropped (the loader has failed them); once the current one ends the
    // port closes and the thread exits by itself: see stopWorker in loader.ts.
    stopping = true;
    chain = chain.then(() => port.close());
    return;
  }
  chain = chain.then(async () => {
    if (stopping) return;
    try {
      if (!config) throw new Error("loader worker received a job before its configuration");
      const batch = await buildAnyBatch(config, msg.epoch, msg.indices, msg.reuse);
      const reply: FromWorker = { type: "batch", id: msg.id, batch };
      const transfer = [batch.images, batch.labels, batch.indices.buffer as ArrayBuffer];
      if (batch.masks) transfer.push(batch.masks);
      port.postMessage(reply, transfer);
    } catch (err) {
      const e = err as Error;
      const reply: FromWorker = {
        type: "error",
        id: msg.id,
        message: e.message,
        file: err instanceof ImageDecodeError ? err.file : undefined,
        stack: e.stack,
      };
      port.postMessage(reply);
    }
  });
});
