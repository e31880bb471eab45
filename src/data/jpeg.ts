// JPEG decoding through native/src/jpeg.cc (the system libjpeg-turbo, as Pillow uses it):
// whole images or just a region, pixel-identical to PIL's Image.open(f).convert("RGB").
//
// It is a separate, libtorch-free addon so that loader workers load only this. If it is
// not built, `jpegAddon` is null and image.ts decodes every format with sharp instead.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  colorSpace: "gray" | "rgb" | "ycbcr" | "cmyk" | "ycck" | "unknown";
  progressive: boolean;
}

/** RGB pixels of a region of a JPEG; (left, top) is its place in the full image. */
export interface JpegRegion {
  data: Uint8Array;
  left: number;
  top: number;
  width: number;
  height: number;
}

interface JpegBinding {
  jpegHeader(bytes: Uint8Array): JpegHeader;
  /** Pixels covering at least the box, or null for colour spaces it leaves to others. */
  decodeJpeg(
    bytes: Uint8Array,
    left: number,
    top: number,
    width: number,
    height: number,
  ): JpegRegion | null;
}

function load(): JpegBinding | null {
  const file = fileURLToPath(
    new URL("../../../native/build/Release/kdep_jpeg.node", import.meta.url),
  );
  if (!existsSync(file)) return null;
  return createRequire(import.meta.url)(file) as JpegBinding;
}

export const jpegAddon: JpegBinding | null = load();

/** JPEG files start with an SOI marker followed by another marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Colour spaces decoded here; CMYK/YCCK go to sharp. */
export function jpegSupported(h: JpegHeader): boolean {
  return h.colorSpace === "ycbcr" || h.colorSpace === "gray" || h.colorSpace === "rgb";
}
