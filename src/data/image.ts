// Decoded image type and the decoders the workers use.
//
// Colour images are decoded by sharp (libvips: libjpeg-turbo-compatible mozjpeg, libpng,
// libwebp) to 8-bit interleaved RGB, like PIL's `Image.open(f).convert("RGB")` in
// torchvision's ImageFolder loader. Label masks are decoded by our own PNG reader
// (png.ts) because libvips expands palette PNGs to RGB and the class index is lost.
import { readFile } from "node:fs/promises";
import sharp from "sharp";

/** An 8-bit image, rows top to bottom, channels interleaved (HWC). */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

// Each worker thread decodes one image at a time; libvips' own thread pool would only
// compete with the other workers for the same cores.
sharp.concurrency(1);
sharp.cache(false);

/** Decodes an encoded image (path or bytes) to RGB. `what` names it in errors. */
export async function decodeRgb(src: string | Uint8Array, what: string): Promise<DecodedImage> {
  try {
    // Reading the file ourselves and handing libvips a buffer is ~15% faster than
    // letting it open the file.
    const input = typeof src === "string" ? await readFile(src) : src;
    const { data, info } = await sharp(input, { failOn: "error" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  } catch (err) {
    throw new ImageDecodeError(what, err);
  }
}

/** Error raised for a missing, truncated or otherwise undecodable image. */
export class ImageDecodeError extends Error {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`Cannot decode image ${file}: ${msg}`, { cause });
    this.name = "ImageDecodeError";
    this.file = file;
  }
}

/** Converts a single-channel image to RGB by replicating the channel (PIL "L" → "RGB"). */
export function grayToRgb(img: DecodedImage): DecodedImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = img.data[i];
    out[3 * i] = v;
    out[3 * i + 1] = v;
    out[3 * i + 2] = v;
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}
