// The kdep_image addon, typed: JPEG decoding through the system libjpeg-turbo, as Pillow
// uses it (native/src/jpeg.cc: whole images or just a region, pixel-identical to PIL's
// Image.open(f).convert("RGB")), Pillow's bilinear resize (native/src/resample.cc), and
// the per-pixel loops of the fused colour path (native/src/color.cc).
//
// It is a separate, libtorch-free addon so that loader workers load only this. If it is
// not built (or KDEP_IMAGE_ADDON=0), `imageAddon` is null: image.ts then decodes every
// format with sharp, resample.ts and fused.ts run their TypeScript loops — the same
// bytes (tested), about 2x slower.
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

interface ImageBinding {
  jpegHeader(bytes: Uint8Array): JpegHeader;
  /** Pixels covering at least the box, or null for colour spaces it leaves to others. */
  decodeJpeg(
    bytes: Uint8Array,
    left: number,
    top: number,
    width: number,
    height: number,
  ): JpegRegion | null;
  /** PIL's img.crop(box).resize((outW, outH), BILINEAR), written into out. */
  resizeBilinear(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    left: number,
    top: number,
    cropW: number,
    cropH: number,
    outW: number,
    outH: number,
    out: Uint8Array,
  ): void;
  /**
   * In place on RGB pixels: each value through `pre`, then (sat not null) Pillow's
   * saturation blend with the pixel's luma, then `post`; returns the sum of the result's
   * luma. Null tables are the identity.
   */
  colorApply(
    data: Uint8Array,
    pre: Uint8Array | null,
    sat: number | null,
    post: Uint8Array | null,
  ): number;
  /**
   * RGB pixels through `pre` and (sat not null) the saturation blend, then channel k's
   * value v becomes tables[256k + v]: CHW float32 planes into out from `offset`,
   * mirrored left-right if `flip`.
   */
  writeChw(
    data: Uint8Array,
    width: number,
    height: number,
    pre: Uint8Array | null,
    sat: number | null,
    tables: Float32Array,
    flip: boolean,
    out: Float32Array,
    offset: number,
  ): void;
}

function load(): ImageBinding | null {
  if (process.env.KDEP_IMAGE_ADDON === "0") return null; // to test the fallbacks
  const file = fileURLToPath(
    new URL("../../../native/build/Release/kdep_image.node", import.meta.url),
  );
  if (!existsSync(file)) return null;
  return createRequire(import.meta.url)(file) as ImageBinding;
}

export const imageAddon: ImageBinding | null = load();

/** JPEG files start with an SOI marker followed by another marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Colour spaces decoded here; CMYK/YCCK go to sharp. */
export function jpegSupported(h: JpegHeader): boolean {
  return h.colorSpace === "ycbcr" || h.colorSpace === "gray" || h.colorSpace === "rgb";
}
