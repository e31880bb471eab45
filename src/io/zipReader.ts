// Reads zip archives (torch.save's format) without trusting what they declare: the central
// directory is parsed here (ZIP64 included), entries are inflated only when asked for, and
// inflation stops the moment an entry produces more bytes than it declares, so a small file
// cannot make the reader do unbounded work or allocate unbounded memory.
import * as zlib from "node:zlib";
import { quoteName } from "./pickle/values.js";

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** A zip archive whose entries are checked and inflated on demand. */
export class ZipArchive {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #entries = new Map<string, CentralEntry>();

  constructor(
    bytes: Uint8Array,
    readonly source: string,
  ) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#readCentralDirectory();
  }

  /** Entry names in central-directory order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The size an entry declares (what read() returns, if the entry is sound). */
  declaredSize(name: string): number | undefined {
    return this.#entries.get(name)?.size;
  }

  /** An entry's bytes, CRC-checked; stored entries are views into the file, not copies. */
  read(name: string): Uint8Array | undefined {
    const e = this.#entries.get(name);
    if (!e) return undefined;
    const where = `${this.source}: zip entry ${quoteName(name)}`;
    if (e.flags & 1) throw new Error(`${where} is encrypted`);
    const start = this.#dataStart(e, where);
    const end = start + e.compressedSize;
    if (end > this.#bytes.length) {
      throw new Error(
        `${where} is truncated (the file ends ${end - this.#bytes.length} bytes early)`,
      );
    }
    const raw = this.#bytes.subarray(start, end);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) {
        throw new Error(`${where} is stored with ${e.compressedSize} bytes but declares ${e.size}`);
      }
      data = raw;
    } else if (e.method === 8) {
      data = inflateBounded(raw, e.size, where);
    } else {
      throw new Error(
        `${where} uses compression method ${e.method}; only stored and deflate are read`,
      );
    }
    if (crc32(data) !== e.crc) throw new Error(`${where} fails its CRC check`);
    return data;
  }

  #fail(msg: string): never {
    throw new Error(`${this.source}: not a readable zip archive (${msg})`);
  }

  #u64(at: number): number {
    const v = this.#view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.#fail("a ZIP64 field is out of range");
    return Number(v);
  }

  #readCentralDirectory(): void {
    const b = this.#bytes;
    const v = this.#view;
    // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
    let e = b.length - 22;
    const stop = Math.max(0, b.length - 22 - U16_MAX);
    while (e >= stop && v.getUint32(e, true) !== EOCD) e--;
    if (e < stop) this.#fail("no end of central directory record");
    let count = v.getUint16(e + 10, true);
    let dirSize = v.getUint32(e + 12, true);
    let dirOffset = v.getUint32(e + 16, true);
    const loc = e - 20;
    if (loc >= 0 && v.getUint32(loc, true) === EOCD64_LOCATOR) {
      const at = this.#u64(loc + 8);
      if (at + 56 > b.length || v.getUint32(at, true) !== EOCD64) {
        this.#fail("the ZIP64 end record is missing");
      }
      count = this.#u64(at + 32);
      dirSize = this.#u64(at + 40);
      dirOffset = this.#u64(at + 48);
    } else if (count === U16_MAX || dirOffset === U32_MAX || dirSize === U32_MAX) {
      this.#fail("ZIP64 fields without a ZIP64 end record");
    }
    if (dirOffset + dirSize > b.length) this.#fail("the central directory lies past the end");
    let o = dirOffset;
    for (let i = 0; i < count; i++) o = this.#readCentralEntry(o, dirOffset + dirSize);
  }

  /** Parses one central-directory record at `o`; returns the offset of the next. */
  #readCentralEntry(o: number, end: number): number {
    const v = this.#view;
    if (o + 46 > end || v.getUint32(o, true) !== CENTRAL) {
      this.#fail("central directory is damaged");
    }
    const nameLen = v.getUint16(o + 28, true);
    const extraLen = v.getUint16(o + 30, true);
    const next = o + 46 + nameLen + extraLen + v.getUint16(o + 32, true);
    if (next > end) this.#fail("central directory is damaged");
    const name = Buffer.from(this.#bytes.subarray(o + 46, o + 46 + nameLen)).toString("utf8");
    const entry: CentralEntry = {
      name,
      flags: v.getUint16(o + 8, true),
      method: v.getUint16(o + 10, true),
      crc: v.getUint32(o + 16, true),
      compressedSize: v.getUint32(o + 20, true),
      size: v.getUint32(o + 24, true),
      localOffset: v.getUint32(o + 42, true),
    };
    this.#applyZip64Extra(entry, o + 46 + nameLen, extraLen);
    if (this.#entries.has(name)) this.#fail(`entry ${quoteName(name)} appears twice`);
    this.#entries.set(name, entry);
    return next;
  }

  /** ZIP64 extra field (id 1): 64-bit values for the 32-bit fields that hold 0xFFFFFFFF. */
  #applyZip64Extra(e: CentralEntry, at: number, len: number): void {
    const v = this.#view;
    for (let p = at; p + 4 <= at + len; ) {
      const id = v.getUint16(p, true);
      const size = v.getUint16(p + 2, true);
      if (id === 1) {
        let q = p + 4;
        const take = (): number => {
          if (q + 8 > p + 4 + size) this.#fail(`ZIP64 field of ${quoteName(e.name)} is short`);
          q += 8;
          return this.#u64(q - 8);
        };
        if (e.size === U32_MAX) e.size = take();
        if (e.compressedSize === U32_MAX) e.compressedSize = take();
        if (e.localOffset === U32_MAX) e.localOffset = take();
      }
      p += 4 + size;
    }
  }

  #dataStart(e: CentralEntry, where: string): number {
    const v = this.#view;
    const o = e.localOffset;
    if (o + 30 > this.#bytes.length || v.getUint32(o, true) !== LOCAL) {
      throw new Error(`${where} has no local header where the directory says`);
    }
    return o + 30 + v.getUint16(o + 26, true) + v.getUint16(o + 28, true);
  }
}

/** Inflates raw deflate data that must produce exactly `size` bytes; stops as soon as it
 *  produces more, instead of inflating whatever the stream holds. */
function inflateBounded(raw: Uint8Array, size: number, where: string): Uint8Array {
  let out: Buffer;
  try {
    // zlib stops and throws when output would pass maxOutputLength (which must be >= 1).
    out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ERR_BUFFER_TOO_LARGE") {
      throw new Error(`${where} inflates past its declared size of ${size} bytes`);
    }
    throw new Error(`${where} has corrupt compressed data (${e.message})`);
  }
  if (out.length !== size) {
    throw new Error(`${where} inflates to ${out.length} bytes but declares ${size}`);
  }
  return out;
}

/** Reads every entry (tests and small archives; checkpoints use ZipArchive lazily). */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const zip = new ZipArchive(bytes, source);
  return new Map(zip.names().map((n) => [n, zip.read(n) as Uint8Array]));
}

/** CRC-32 (zip's polynomial), by zlib. */
export function crc32(data: Uint8Array): number {
  return zlib.crc32(data) >>> 0;
}
