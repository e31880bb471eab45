// CIFAR-100 in both downloadable formats, fine labels (100 classes).
//  - python version: cifar-100-python.tar.gz, or the extracted cifar-100-python/{train,
//    test,meta} pickles (dicts with b"data" uint8 N×3072 planes, b"fine_labels").
//  - binary version: cifar-100-binary/{train,test}.bin, records of
//    <coarse label byte><fine label byte><3072 pixel bytes, R plane, G plane, B plane>,
//    class names in fine_label_names.txt.
// Pixels go into a SharedArrayBuffer (150 MB for train) that loader workers share.
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { readPickle } from "../../io/index.js";
import type { PyDict, PyValue } from "../../io/pickle/values.js";
import { isRawTensor } from "../../io/rawTensor.js";
import { Dataset, toShared } from "./dataset.js";
import { exists, lines, readText } from "./files.js";
import { readTarMembers } from "./tarball.js";

export type Split = "train" | "test";
const SIDE = 32;
const IMAGE_BYTES = 3 * SIDE * SIDE;

/**
 * `path`: cifar-100-python.tar.gz, a cifar-100-python/ directory, or a
 * cifar-100-binary/ directory (or their parent).
 */
export async function cifar100(path: string, split: Split): Promise<Dataset> {
  if (path.endsWith(".tar.gz") || path.endsWith(".tgz")) {
    const m = await readTarMembers(path, [`/${split}`, "/meta"]);
    const data = m.get(`/${split}`);
    const meta = m.get("/meta");
    if (!data || !meta)
      throw new Error(`CIFAR-100: ${path} has no cifar-100-python/${split} or /meta member`);
    return fromPickles(data, meta, `${path}:${split}`);
  }
  for (const dir of [path, join(path, "cifar-100-python")]) {
    if (await exists(join(dir, "meta"))) {
      const file = join(dir, split);
      return fromPickles(await readOrFail(file), await readOrFail(join(dir, "meta")), file);
    }
  }
  for (const dir of [path, join(path, "cifar-100-binary")]) {
    if (await exists(join(dir, `${split}.bin`))) return fromBinary(dir, split);
  }
  throw new Error(
    `CIFAR-100: found neither cifar-100-python/{${split},meta} nor cifar-100-binary/${split}.bin under ${path}`,
  );
}

async function readOrFail(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`CIFAR-100: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`, {
      cause: err,
    });
  }
}

function fromPickles(dataBytes: Uint8Array, metaBytes: Uint8Array, what: string): Dataset {
  // Our safe unpickler (src/io): these pickles hold only dicts, lists, bytes and one ndarray.
  const d = asDict(readPickle(dataBytes, what), what);
  const meta = asDict(readPickle(metaBytes, `${what} meta`), `${what} meta`);
  const names = get(meta, "fine_label_names");
  if (!Array.isArray(names))
    throw new Error(`CIFAR-100: ${what} meta has no fine_label_names list`);
  const classes = names.map((n) =>
    n instanceof Uint8Array ? Buffer.from(n).toString("latin1") : String(n),
  );
  const arr = get(d, "data");
  const labels = get(d, "fine_labels");
  if (!isRawTensor(arr) || arr.dtype !== "uint8")
    throw new Error(`CIFAR-100: ${what} "data" is not a uint8 array`);
  if (!Array.isArray(labels)) throw new Error(`CIFAR-100: ${what} has no fine_labels list`);
  const n = labels.length;
  if (arr.data.length !== n * IMAGE_BYTES) {
    throw new Error(
      `CIFAR-100: ${what} holds ${arr.data.length} pixel bytes, expected ${n}×${IMAGE_BYTES}`,
    );
  }
  return make(basename(what), classes, Int32Array.from(labels as number[]), toShared(arr.data));
}

function asDict(v: PyValue, what: string): PyDict {
  if (!(v instanceof Map)) throw new Error(`CIFAR-100: ${what} is not a pickled dict`);
  return v;
}

/** Python 2 pickles key their dicts by byte strings; Python 3 ones by str. */
function get(d: PyDict, key: string): PyValue | undefined {
  if (d.has(key)) return d.get(key);
  for (const [k, v] of d)
    if (k instanceof Uint8Array && Buffer.from(k).toString("latin1") === key) return v;
  return undefined;
}

async function fromBinary(dir: string, split: Split): Promise<Dataset> {
  const file = join(dir, `${split}.bin`);
  const raw = await readOrFail(file);
  const rec = IMAGE_BYTES + 2;
  if (raw.length % rec !== 0)
    throw new Error(`CIFAR-100: ${file} is ${raw.length} bytes, not a multiple of ${rec}`);
  const n = raw.length / rec;
  const classes = lines(await readText(join(dir, "fine_label_names.txt"), "CIFAR-100 binary"));
  const pixels = new Uint8Array(new SharedArrayBuffer(n * IMAGE_BYTES));
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = raw[i * rec + 1];
    pixels.set(raw.subarray(i * rec + 2, (i + 1) * rec), i * IMAGE_BYTES);
  }
  return make(file, classes, labels, pixels);
}

function make(name: string, classes: string[], labels: Int32Array, pixels: Uint8Array): Dataset {
  for (const l of labels) {
    if (l < 0 || l >= classes.length)
      throw new Error(`CIFAR-100: ${name} has label ${l} outside [0, ${classes.length})`);
  }
  return new Dataset({
    name: `CIFAR-100 ${name}`,
    classes,
    labels,
    source: { kind: "pixels", data: pixels, width: SIDE, height: SIDE, channels: 3, layout: "chw" },
  });
}
