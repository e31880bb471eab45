// Decoded image type and the decoders the workers use.
//
// Colour images are decoded to 8-bit interleaved RGB, like PIL's
// `Image.open(f).convert("RGB")` in torchvision's ImageFolder loader: JPEGs by the system
// libjpeg-turbo (imageAddon.ts; sharp's libvips pipeline costs 2-3x the decode itself), other
// formats and CMYK JPEGs by sharp (libvips: libpng, libwebp, mozjpeg). Label masks are
// decoded by our own PNG reader (png.ts) because libvips expands palette PNGs to RGB and
// the class index is lost.
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { imageAddon, isJpeg, type JpegHeader, jpegSupported } from "./imageAddon.js";

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

/** An 8-bit RGB image that knows where it sits in a larger one (a decoded region). */
export interface PlacedImage extends DecodedImage {
  left: number;
  top: number;
}

/** A rectangle of an image (integer pixel coordinates). */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * An opened image whose pixels are decoded on demand: a crop decodes only the region it
 * reads (JPEG), so RandomResizedCrop does not pay for the pixels it throws away.
 */
export interface ImageSource {
  width: number;
  height: number;
  /** RGB pixels covering at least `region` (default: all). Throws ImageDecodeError. */
  decode(region?: Region): PlacedImage;
}

/** Opens an encoded image (path or bytes). JPEGs are read lazily, others decoded now. */
export async function openImage(src: string | Uint8Array, what: string): Promise<ImageSource> {
  let bytes: Uint8Array;
  try {
    bytes = typeof src === "string" ? await readFile(src) : src;
  } catch (err) {
    throw new ImageDecodeError(what, err);
  }
  const jpeg = imageAddon && isJpeg(bytes) ? readJpegHeader(bytes, what) : null;
  if (jpeg && jpegSupported(jpeg)) return jpegSource(bytes, jpeg, what);
  return wholeImage(await decodeWithSharp(bytes, what));
}

/** An already decoded image as a source; each decode() hands out pixels the caller owns. */
export function wholeImage(img: DecodedImage): ImageSource {
  let given = false;
  return {
    width: img.width,
    height: img.height,
    decode(): PlacedImage {
      const data = given ? img.data.slice() : img.data;
      given = true;
      return {
        data,
        width: img.width,
        height: img.height,
        channels: img.channels,
        left: 0,
        top: 0,
      };
    },
  };
}

function readJpegHeader(bytes: Uint8Array, what: string): JpegHeader {
  try {
    return imageAddon!.jpegHeader(bytes);
  } catch (err) {
    throw new ImageDecodeError(what, err);
  }
}

function jpegSource(bytes: Uint8Array, h: JpegHeader, what: string): ImageSource {
  const { width, height } = h;
  return {
    width,
    height,
    decode(r = { left: 0, top: 0, width, height }): PlacedImage {
      let out: ReturnType<NonNullable<typeof imageAddon>["decodeJpeg"]>;
      try {
        out = imageAddon!.decodeJpeg(bytes, r.left, r.top, r.width, r.height);
      } catch (err) {
        if (err instanceof RangeError) throw err; // a caller's bad region, not a bad file
        throw new ImageDecodeError(what, err);
      }
      if (!out) throw new ImageDecodeError(what, new Error(`unsupported JPEG colour space`));
      return { ...out, channels: 3 };
    },
  };
}

/** Decodes an encoded image (path or bytes) to RGB. `what` names it in errors. */
export async function decodeRgb(src: string | Uint8Array, what: string): Promise<DecodedImage> {
  const img = (await openImage(src, what)).decode();
  return { data: img.data, width: img.width, height: img.height, channels: 3 };
}

async function decodeWithSharp(input: Uint8Array, what: string): Promise<DecodedImage> {
  try {
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
