// Zip archives as torch.save writes them: every entry stored (not compressed), and each
// entry's data starting on a 64-byte boundary, which PyTorch gets by padding the local
// header's extra field (id "FB"). fflate writes; zipReader.ts reads.
import { type ZipOptions, type Zippable, zipSync } from "fflate";

export const ZIP_ALIGN = 64;
const PAD_FIELD = 0x4246; // "FB", the extra-field id PyTorch uses for its padding

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
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
