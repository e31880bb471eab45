// Builds a target cache (ResNet-50 teacher, random V, k = 512) over synthetic 256×256
// images with the KDEP augmentation at SIZE px, in its own process; prints the time per
// image and the bytes per image.
//   node dist/bench/kdep/cacheChild.js OUT IMAGES SIZE
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Dataset } from "../../src/data/datasets/dataset.js";
import { kdepTrainTransform } from "../../src/data/transforms/pipeline.js";
import { createModel } from "../../src/models/registry.js";
import { runTargets } from "../../src/pipelines/kdep/targetCacheWriter.js";
import * as T from "../../src/tensor/index.js";

const [out, n, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const pixels = new Uint8Array(new SharedArrayBuffer(n * 256 * 256 * 3));
for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
const data = new Dataset({
  name: "synthetic",
  classes: ["x"],
  labels: new Int32Array(n),
  source: { kind: "pixels", data: pixels, width: 256, height: 256, channels: 3, layout: "hwc" },
});
const r = await runTargets({
  teacher: createModel("resnet50", { numClasses: 0 }),
  teacherId: "resnet50@bench",
  svd: { V: T.randn([2048, 2048]).div(45), mean: T.zeros([2048]) },
  svdHash: "bench",
  data,
  transform: kdepTrainTransform(size),
  out,
  epochs: 1,
  k: 512,
  batchSize: 64,
  workers: 2,
  progress: "quiet",
});
const bytes = readdirSync(out).reduce((a, f) => a + statSync(join(out, f)).size, 0);
console.log(JSON.stringify({ ms_per_image: (r.seconds * 1000) / n, bytes_per_image: bytes / n }));
