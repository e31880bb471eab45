// Zip archives as torch.save writes them: every entry stored (not compressed), and each
// entry's data starting on a 64-byte boundary, which PyTorch gets by padding the local
// header's extra field (id "FB"). fflate does the zip work; this file adds the alignment
// and the checks that turn a damaged archive into a clear error.
import { type Unzipped, unzipSync, type ZipOptions, type Zippable, zipSync } from "fflate";

export const ZIP_ALIGN = 64;
const PAD_FIELD = 0x4246; // "FB", the extra-field id PyTorch uses for its padding

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Reads every entry; `source` names the file in errors. */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const declared = new Map<string, number>();
  let files: Unzipped;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        declared.set(f.name, f.originalSize);
        return true;
      },
    });
  } catch (e) {
    throw new Error(`${source}: not a readable zip archive (${(e as Error).message})`);
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, size] of declared) {
    const data = files[name];
    // fflate clamps reads at the end of the buffer, so a cut-off entry comes back short.
    if (!data || data.length !== size) {
      throw new Error(
        `${source}: zip entry ${name} is truncated (${data?.length ?? 0} of ${size} bytes)`,
      );
    }
    out.set(name, data);
  }
  // fflate does not check CRCs; PyTorch's reader does, so a flipped byte must not pass here.
  for (const [name, crc] of centralCrcs(bytes)) {
    const data = out.get(name);
    if (data && crc32(data) !== crc)
      throw new Error(`${source}: zip entry ${name} fails its CRC check`);
  }
  return out;
}

/** Entry name → CRC-32 from the central directory (empty for ZIP64 archives, unchecked). */
function centralCrcs(b: Uint8Array): Map<string, number> {
  const crcs = new Map<string, number>();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let e = b.length - 22;
  while (e >= 0 && v.getUint32(e, true) !== 0x06054b50) e--;
  if (e < 0) return crcs;
  const count = v.getUint16(e + 10, true);
  let o = v.getUint32(e + 16, true);
  if (o === 0xffffffff) return crcs;
  for (let i = 0; i < count && o + 46 <= b.length && v.getUint32(o, true) === 0x02014b50; i++) {
    const n = v.getUint16(o + 28, true);
    const name = Buffer.from(b.subarray(o + 46, o + 46 + n)).toString("utf8");
    crcs.set(name, v.getUint32(o + 16, true));
    o += 46 + n + v.getUint16(o + 30, true) + v.getUint16(o + 32, true);
  }
  return crcs;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Writes entries stored and 64-byte aligned, in the given order. */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  const files: Zippable = {};
  // A fixed timestamp makes identical inputs give identical files.
  const mtime = new Date(1980, 0, 1);
  let offset = 0;
  for (const e of entries) {
    const nameLen = Buffer.byteLength(e.name, "utf8");
    const headerEnd = offset + 30 + nameLen + 4;
    const pad = (ZIP_ALIGN - (headerEnd % ZIP_ALIGN)) % ZIP_ALIGN;
    const opts: ZipOptions = {
      level: 0,
      mtime,
      extra: { [PAD_FIELD]: new Uint8Array(pad).fill(0x5a) },
    };
    files[e.name] = [e.data, opts];
    offset = headerEnd + pad + e.data.length;
  }
  if (offset >= 0xffffffff) {
    throw new Error("archives of 4 GiB or more need ZIP64, which kdep's zip writer lacks");
  }
  return zipSync(files);
}
