// Reads teacher targets from a cache written by `kdep targets` (targetCacheFormat.ts).
// Rows are fetched with positioned reads, so a cache larger than RAM costs only the page
// cache; each chunk is checked against its crc32 the first time a row of it is read.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { fromRaw } from "../../io/tensors.js";
import { type Tensor, tidy } from "../../tensor/index.js";
import {
  type EpochSums,
  epochFile,
  MANIFEST_FILE,
  manifestMismatches,
  ROW_ITEM_BYTES,
  sumsFile,
  TARGET_FORMAT,
  type TargetExpectations,
  type TargetManifest,
} from "./targetCacheFormat.js";

interface OpenEpoch {
  epoch: number;
  path: string;
  fd: number;
  sums: EpochSums;
  verified: Uint8Array;
}

export class TargetCache {
  readonly manifest: TargetManifest;
  #open: OpenEpoch | null = null;

  constructor(readonly dir: string) {
    const path = join(dir, MANIFEST_FILE);
    if (!existsSync(path))
      throw new Error(`No ${MANIFEST_FILE} in ${dir}: is it a cache written by \`kdep targets\`?`);
    const m = JSON.parse(readFileSync(path, "utf8")) as TargetManifest;
    if (m.format !== TARGET_FORMAT)
      throw new Error(`${path}: format "${m.format}", expected "${TARGET_FORMAT}"`);
    this.manifest = m;
  }

  /** Throws one error naming every setting in which the cache differs from the run. */
  check(want: TargetExpectations): void {
    const bad = manifestMismatches(this.manifest, want);
    if (bad.length)
      throw new Error(`The target cache ${this.dir} does not fit this run: ${bad.join("; ")}`);
  }

  /** float16 bytes of the targets [indices.length, k] of `epoch` (first k dims). */
  rows(epoch: number, indices: ArrayLike<number>, k = this.manifest.k): Uint8Array {
    const m = this.manifest;
    if (k > m.k) throw new Error(`${this.dir} holds ${m.k}-dim targets; ${k} were asked for`);
    const ep = this.#epoch(epoch);
    const rowBytes = m.k * ROW_ITEM_BYTES;
    const outRow = k * ROW_ITEM_BYTES;
    const out = new Uint8Array(indices.length * outRow);
    const row = new Uint8Array(rowBytes);
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j];
      if (!(Number.isInteger(i) && i >= 0 && i < m.images.count))
        throw new RangeError(`${ep.path}: image index ${i} out of range [0, ${m.images.count})`);
      this.#verify(ep, Math.floor(i / m.chunkImages));
      readExactly(ep, row, i * rowBytes);
      out.set(row.subarray(0, outRow), j * outRow);
    }
    return out;
  }

  /** The targets as float32 [n, k] on `device`. */
  targets(epoch: number, indices: ArrayLike<number>, k = this.manifest.k, device = "cpu"): Tensor {
    const data = this.rows(epoch, indices, k);
    return tidy(() =>
      fromRaw({ dtype: "float16", shape: [indices.length, k], data }, device).float(),
    );
  }

  close(): void {
    if (this.#open) closeSync(this.#open.fd);
    this.#open = null;
  }

  /** Opens an epoch's file (closing the previous one) and checks its length. */
  #epoch(epoch: number): OpenEpoch {
    if (this.#open?.epoch === epoch) return this.#open;
    const m = this.manifest;
    if (!(Number.isInteger(epoch) && epoch >= 0 && epoch < m.epochs))
      throw new RangeError(
        `${this.dir} holds epochs 0–${m.epochs - 1}; epoch ${epoch} was asked for`,
      );
    const path = epochFile(this.dir, epoch);
    if (!existsSync(path) || !existsSync(sumsFile(this.dir, epoch)))
      throw new Error(
        `${path} is missing or incomplete: run \`kdep targets\` with the same settings to finish the cache`,
      );
    const sums = JSON.parse(readFileSync(sumsFile(this.dir, epoch), "utf8")) as EpochSums;
    const chunks = Math.ceil(m.images.count / m.chunkImages);
    const fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const want = m.images.count * m.k * ROW_ITEM_BYTES;
    if (size !== want || sums.crc32.length !== chunks || sums.chunkImages !== m.chunkImages) {
      closeSync(fd);
      throw new Error(
        `${path} is ${size} bytes with ${sums.crc32.length} chunk checksums; expected ${want} bytes in ${chunks} chunks (truncated or corrupt: rebuild this epoch)`,
      );
    }
    this.close();
    this.#open = { epoch, path, fd, sums, verified: new Uint8Array(chunks) };
    return this.#open;
  }

  #verify(ep: OpenEpoch, c: number): void {
    if (ep.verified[c]) return;
    const m = this.manifest;
    const rowBytes = m.k * ROW_ITEM_BYTES;
    const first = c * m.chunkImages;
    const rows = Math.min(m.chunkImages, m.images.count - first);
    const buf = new Uint8Array(rows * rowBytes);
    readExactly(ep, buf, first * rowBytes);
    const got = crc32(buf);
    if (got !== ep.sums.crc32[c]) {
      throw new Error(
        `${ep.path}: chunk ${c} (images ${first}–${first + rows - 1}) fails its checksum (crc32 ${hex(got)}, recorded ${hex(ep.sums.crc32[c])}): the cache is corrupt; delete this file and run \`kdep targets\` again`,
      );
    }
    ep.verified[c] = 1;
  }
}

function readExactly(ep: OpenEpoch, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(ep.fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new Error(`${ep.path}: unexpected end of file at byte ${position + off}`);
    off += n;
  }
}

const hex = (n: number) => n.toString(16).padStart(8, "0");
