// Minimal PNG reader for label masks: greyscale or palette, 1–8 bits, not interlaced.
// Returns the raw sample values (palette *indices* for colour type 3), which is what
// PIL's `np.array(Image.open(mask))` gives for VOC's palette masks and what every
// segmentation codebase trains on. libvips would expand the palette to RGB.
import { readFile } from "node:fs/promises";
import { inflateSync } from "node:zlib";
import type { DecodedImage } from "./image.js";

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export async function readMaskPng(path: string): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`Cannot read mask ${path}: ${(err as Error).message}`, { cause: err });
  }
  return decodeMaskPng(bytes, path);
}

export function decodeMaskPng(bytes: Uint8Array, what: string): DecodedImage {
  const fail = (why: string): never => {
    throw new Error(`Cannot decode mask ${what}: ${why}`);
  };
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) fail("not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (body.length !== len) fail(`truncated ${type} chunk`);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      depth = body[8];
      colorType = body[9];
      if (body[12] !== 0) fail("interlaced PNG masks are not supported");
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  if (colorType !== 0 && colorType !== 3) {
    fail(`expected a greyscale or palette PNG (colour type 0 or 3), got colour type ${colorType}`);
  }
  if (depth > 8) fail(`expected bit depth <= 8, got ${depth}`);
  if (idat.length === 0) fail("no image data");
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (err) {
    return fail(`corrupt image data (${(err as Error).message})`);
  }
  const stride = Math.ceil((width * depth) / 8);
  if (raw.length < height * (stride + 1)) fail("truncated image data");
  const out = new Uint8Array(width * height);
  let prev = new Uint8Array(stride);
  let cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    unfilter(filter, line, prev, cur, 1, fail);
    if (depth === 8) out.set(cur, y * width);
    else {
      const perByte = 8 / depth;
      const mask = (1 << depth) - 1;
      for (let x = 0; x < width; x++) {
        const b = cur[Math.floor(x / perByte)];
        const shift = 8 - depth * ((x % perByte) + 1);
        out[y * width + x] = (b >> shift) & mask;
      }
    }
    [prev, cur] = [cur, prev];
  }
  return { data: out, width, height, channels: 1 };
}

function unfilter(
  filter: number,
  line: Uint8Array,
  prev: Uint8Array,
  cur: Uint8Array,
  bpp: number,
  fail: (why: string) => never,
): void {
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const a = i >= bpp ? cur[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    let v: number;
    switch (filter) {
      case 0:
        v = line[i];
        break;
      case 1:
        v = line[i] + a;
        break;
      case 2:
        v = line[i] + b;
        break;
      case 3:
        v = line[i] + ((a + b) >> 1);
        break;
      case 4: {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = line[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        break;
      }
      default:
        fail(`unknown PNG filter type ${filter}`);
    }
    cur[i] = v & 255;
  }
}
