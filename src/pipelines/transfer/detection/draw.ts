// A few val images saved as PNG with the truth (green) and the predictions scoring ≥ 0.5
// (red) drawn as 2-px rectangles.
import sharp from "sharp";
import type { DetRecord } from "../../../data/datasets/detection.js";
import { decodeRgb } from "../../../data/image.js";
import type { Box } from "./evalTypes.js";

function rect(img: Uint8Array, w: number, h: number, b: Box, rgb: [number, number, number]): void {
  const x1 = Math.max(0, Math.round(b[0]));
  const y1 = Math.max(0, Math.round(b[1]));
  const x2 = Math.min(w - 1, Math.round(b[2]) - 1);
  const y2 = Math.min(h - 1, Math.round(b[3]) - 1);
  const put = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    img.set(rgb, (y * w + x) * 3);
  };
  for (let t = 0; t < 2; t++) {
    for (let x = x1; x <= x2; x++) [put(x, y1 + t), put(x, y2 - t)];
    for (let y = y1; y <= y2; y++) [put(x1 + t, y), put(x2 - t, y)];
  }
}

export async function drawDetections(r: DetRecord, predicted: Box[], path: string): Promise<void> {
  const img = await decodeRgb(r.file, r.file);
  const px = new Uint8Array(img.data);
  for (const o of r.objects) rect(px, img.width, img.height, o.box, [0, 220, 0]);
  for (const b of predicted) rect(px, img.width, img.height, b, [230, 0, 0]);
  await sharp(px, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toFile(path);
}
