// MNIST / Fashion-MNIST idx files (optionally gzipped), as distributed:
// train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-*.
// idx: magic 0x0000 <dtype 0x08=uint8> <ndim>, then ndim big-endian uint32 sizes, data.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Dataset, toShared } from "./dataset.js";
import { exists } from "./files.js";

export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`idx: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`, {
      cause: err,
    });
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new Error(`idx: ${path} is not a valid gzip file (${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new Error(`idx: ${path} has no idx magic number`);
  if (bytes[2] !== 0x08)
    throw new Error(
      `idx: ${path} has element type 0x${bytes[2].toString(16)}, expected 0x08 (uint8)`,
    );
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * ndim;
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== size) {
    throw new Error(
      `idx: ${path} has ${bytes.length - start} data bytes, shape ${shape.join("x")} needs ${size}`,
    );
  }
  return { shape, data: bytes.subarray(start) };
}

/** Fashion-MNIST (or MNIST with classes = MNIST_CLASSES) from a directory of idx files. */
export async function fashionMnist(
  dir: string,
  split: "train" | "test",
  classes: string[] = FASHION_MNIST_CLASSES,
): Promise<Dataset> {
  const prefix = split === "train" ? "train" : "t10k";
  const find = async (stem: string): Promise<string> => {
    for (const f of [`${stem}.gz`, stem]) if (await exists(join(dir, f))) return join(dir, f);
    throw new Error(`idx: missing ${join(dir, stem)}(.gz)`);
  };
  const imgPath = await find(`${prefix}-images-idx3-ubyte`);
  const images = await readIdx(imgPath);
  const labels = await readIdx(await find(`${prefix}-labels-idx1-ubyte`));
  if (images.shape.length !== 3) throw new Error(`idx: ${imgPath} is not an N×H×W image file`);
  if (labels.shape[0] !== images.shape[0]) {
    throw new Error(`idx: ${images.shape[0]} images but ${labels.shape[0]} labels in ${dir}`);
  }
  const [, h, w] = images.shape;
  return new Dataset({
    name: `${imgPath}`,
    classes,
    labels: Int32Array.from(labels.data),
    source: {
      kind: "pixels",
      data: toShared(images.data),
      width: w,
      height: h,
      channels: 1,
      layout: "hwc",
    },
  });
}
