// TensorBoard event files (tfevents): TFRecord framing around hand-encoded `Event` protobufs
// carrying scalar summaries, so the usual viewer shows a run's curves with no TensorFlow.
// Record: u64 length · masked crc32c(length) · data · masked crc32c(data), all little-endian.
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const masked = (crc: number) => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

// Minimal protobuf writer: varints, length-delimited fields, fixed64/fixed32 numbers.
class Proto {
  readonly bytes: number[] = [];
  varint(v: number | bigint): this {
    let n = BigInt(v);
    while (n > 0x7fn) {
      this.bytes.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.bytes.push(Number(n));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  double(field: number, v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.tag(field, 1).bytes.push(...b);
    return this;
  }
  float(field: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.tag(field, 5).bytes.push(...b);
    return this;
  }
  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  bytesField(field: number, data: Uint8Array | number[]): this {
    this.tag(field, 2).varint(data.length);
    this.bytes.push(...data);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytesField(field, Buffer.from(s, "utf8"));
  }
}

function record(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const crcs = Buffer.alloc(8);
  crcs.writeUInt32LE(masked(crc32c(len)), 0);
  crcs.writeUInt32LE(masked(crc32c(data)), 4);
  return Buffer.concat([len, crcs.subarray(0, 4), data, crcs.subarray(4)]);
}

/** Appends scalar events to `<dir>/events.out.tfevents.<time>.<host>`. */
export class EventWriter {
  readonly path: string;
  #fd: number;
  constructor(dir: string) {
    this.path = join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`);
    this.#fd = openSync(this.path, "a");
    // Event{wall_time=1, file_version=3}
    const ev = new Proto().double(1, Date.now() / 1000).string(3, "brain.Event:2");
    writeSync(this.#fd, record(Uint8Array.from(ev.bytes)));
  }

  /** Event{wall_time=1, step=2, summary=5{value=1{tag=1, simple_value=2}}} */
  scalar(tag: string, value: number, step: number): void {
    const v = new Proto().string(1, tag).float(2, value);
    const summary = new Proto().bytesField(1, v.bytes);
    const ev = new Proto()
      .double(1, Date.now() / 1000)
      .int(2, step)
      .bytesField(5, summary.bytes);
    writeSync(this.#fd, record(Uint8Array.from(ev.bytes)));
  }

  flush(): void {
    fsyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
