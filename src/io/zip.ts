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
  return out;
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
