// Decoding thread of a DecodePool: decodes each job's files in order and transfers the
// bytes back; an undecodable file becomes an error message that names it.
import { parentPort } from "node:worker_threads";
import { decodeFiles, type FromDecodeWorker, type ToDecodeWorker } from "./detDecode.js";

const port = parentPort;
if (!port) throw new Error("src/data/detDecodeWorker.ts must run in a worker thread");

// One job at a time, so replies keep the order of the jobs.
let chain: Promise<void> = Promise.resolve();

port.on("message", (msg: ToDecodeWorker) => {
  if (msg.type === "stop") {
    chain = chain.then(() => port.close());
    return;
  }
  chain = chain.then(async () => {
    try {
      // A view into a shared or pooled buffer is copied, so each image's buffer can move.
      const images = (await decodeFiles(msg.files)).map((i) =>
        i.data.byteOffset === 0 && i.data.byteLength === i.data.buffer.byteLength
          ? i
          : { ...i, data: i.data.slice() },
      );
      const reply: FromDecodeWorker = { type: "done", id: msg.id, images };
      port.postMessage(
        reply,
        images.map((i) => i.data.buffer as ArrayBuffer),
      );
    } catch (err) {
      const reply: FromDecodeWorker = {
        type: "error",
        id: msg.id,
        message: (err as Error).message,
      };
      port.postMessage(reply);
    }
  });
});
