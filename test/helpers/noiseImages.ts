// Random 32×32 RGB pixels as an in-memory dataset: no flat regions, so no ReLU ties, and a
// few training steps stay far from chaotic. Labels cycle over the classes.
import { Dataset } from "../../src/data/datasets/dataset.js";
import { Rng } from "../../src/data/rng.js";

export function noiseImages(n: number, classes: number, seed: number): Dataset {
  const rng = new Rng(seed, 0, 0);
  const data = new Uint8Array(new SharedArrayBuffer(n * 32 * 32 * 3));
  for (let i = 0; i < data.length; i++) data[i] = rng.randint(0, 256);
  return new Dataset({
    name: "noise",
    classes: classes === 1 ? ["noise"] : Array.from({ length: classes }, (_, i) => `c${i}`),
    labels: Int32Array.from({ length: n }, (_, i) => i % classes),
    source: { kind: "pixels", data, width: 32, height: 32, channels: 3, layout: "hwc" },
  });
}
