// A tile: the pixels of one rectangle of a larger image that is never materialised.
//
// The segmentation crop keeps a 512² window of an image that RandScale may have made
// 4096×2048 (Cityscapes at scale 2). Rotation, blur and flip are local, so the joint
// pipeline computes each step only on the rectangle the final crop depends on
// (segWindow.ts) — with results identical to transforming the whole image and then
// cropping, because every function below indexes by *global* coordinates and applies
// the image's own borders (clamping, reflection, fill) exactly as the whole-image
// computation does.
import type { DecodedImage } from "../image.js";

/** Pixels [x0, x0 + width) × [y0, y0 + height) of a fullW × fullH image. */
export interface Tile extends DecodedImage {
  x0: number;
  y0: number;
  fullW: number;
  fullH: number;
}

/** A half-open rectangle [x0, x1) × [y0, y1) in global coordinates. */
export interface Win {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function wholeTile(img: DecodedImage): Tile {
  return { ...img, x0: 0, y0: 0, fullW: img.width, fullH: img.height };
}

export function wholeWin(width: number, height: number): Win {
  return { x0: 0, y0: 0, x1: width, y1: height };
}

/** Clips a window to [0, w) × [0, h); an empty result has x1 = x0 or y1 = y0. */
export function clipWin(r: Win, w: number, h: number): Win {
  const x0 = Math.min(Math.max(r.x0, 0), w);
  const y0 = Math.min(Math.max(r.y0, 0), h);
  return { x0, y0, x1: Math.max(Math.min(r.x1, w), x0), y1: Math.max(Math.min(r.y1, h), y0) };
}

/** A tile's pixels as a plain image (the tile must cover its whole image). */
export function untile(t: Tile): DecodedImage {
  if (t.x0 !== 0 || t.y0 !== 0 || t.width !== t.fullW || t.height !== t.fullH) {
    throw new Error(`tile at (${t.x0},${t.y0}) ${t.width}x${t.height} is not the whole image`);
  }
  return { data: t.data, width: t.width, height: t.height, channels: t.channels };
}

/** Throws unless tile t holds every pixel of window r (a planning error otherwise). */
export function assertCovers(t: Tile, r: Win, what: string): void {
  if (r.x1 <= r.x0 || r.y1 <= r.y0) return;
  if (r.x0 < t.x0 || r.y0 < t.y0 || r.x1 > t.x0 + t.width || r.y1 > t.y0 + t.height) {
    throw new Error(
      `${what}: tile (${t.x0},${t.y0}) ${t.width}x${t.height} does not cover ` +
        `[${r.x0},${r.x1})x[${r.y0},${r.y1})`,
    );
  }
}
