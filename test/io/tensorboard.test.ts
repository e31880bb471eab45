import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { crc32c, EventWriter } from "../../src/io/tensorboard.js";

// An independent reader: TFRecord framing and the few protobuf fields we write.
function readVarint(b: Buffer, pos: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const byte = b[pos++];
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [v, pos];
    shift += 7;
  }
}

function fields(b: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let pos = 0;
  while (pos < b.length) {
    let key: number;
    [key, pos] = readVarint(b, pos);
    const f = Math.floor(key / 8);
    let v: number | Buffer;
    switch (key & 7) {
      case 0:
        [v, pos] = readVarint(b, pos);
        break;
      case 1:
        v = b.readDoubleLE(pos);
        pos += 8;
        break;
      case 5:
        v = b.readFloatLE(pos);
        pos += 4;
        break;
      default: {
        let n: number;
        [n, pos] = readVarint(b, pos);
        v = b.subarray(pos, pos + n);
        pos += n;
      }
    }
    out.set(f, [...(out.get(f) ?? []), v]);
  }
  return out;
}

const unmask = (m: number) => {
  const r = (m - 0xa282ead8) >>> 0;
  return ((r >>> 17) | (r << 15)) >>> 0;
};

describe("TensorBoard event files", () => {
  it("crc32c matches the standard check value", () => {
    assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
  });

  it("writes framed, checksummed scalar events", () => {
    const dir = mkdtempSync(join(tmpdir(), "kdep-tb-"));
    const w = new EventWriter(dir);
    w.scalar("loss/train", 0.5, 3);
    w.scalar("lr", 0.1, 4);
    w.close();
    const b = readFileSync(w.path);
    const events: Map<number, (number | Buffer)[]>[] = [];
    let pos = 0;
    while (pos < b.length) {
      const len = Number(b.readBigUInt64LE(pos));
      assert.equal(unmask(b.readUInt32LE(pos + 8)), crc32c(b.subarray(pos, pos + 8)), "length crc");
      const data = b.subarray(pos + 12, pos + 12 + len);
      assert.equal(unmask(b.readUInt32LE(pos + 12 + len)), crc32c(data), "data crc");
      events.push(fields(data));
      pos += 16 + len;
    }
    assert.equal(events.length, 3);
    assert.equal(String(events[0].get(3)?.[0]), "brain.Event:2");
    const value = fields(fields(events[1].get(5)?.[0] as Buffer).get(1)?.[0] as Buffer);
    assert.equal(String(value.get(1)?.[0]), "loss/train");
    assert.equal(value.get(2)?.[0], 0.5);
    assert.equal(events[1].get(2)?.[0], 3);
    assert.equal(events[2].get(2)?.[0], 4);
  });
});
