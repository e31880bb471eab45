// COCO AP of kdep's evaluator against test/helpers/coco_ap_ref.py, an independent Python
// implementation written from the COCO evaluation definition, on a randomized set: 50 images
// (some empty), 4 categories (one never in the truth), objects of every size range, crowd
// regions, annotation areas that differ from box areas, ~400 detections (noisy copies of the
// truth, duplicates and false positives), at maxDets 100 and 3.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { cocoEvaluate } from "../../../src/pipelines/transfer/detection/cocoEval.js";
import type {
  Box,
  Detection,
  GroundTruth,
} from "../../../src/pipelines/transfer/detection/evalTypes.js";
import { PYTHON } from "../../helpers/python.js";

const REF = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../test/helpers/coco_ap_ref.py",
);

/** mulberry32: a small seeded generator, so the set is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSet(seed: number) {
  const r = rng(seed);
  const images = Array.from({ length: 50 }, (_, i) => i + 1);
  const categories = [0, 1, 2, 3];
  const gts: (GroundTruth & { area: number; iscrowd: boolean })[] = [];
  const dets: Detection[] = [];
  const box = (x: number, y: number, w: number, h: number): Box => [x, y, x + w, y + h];
  for (const image of images) {
    if (image % 9 === 0) continue; // images without objects (detections may still land there)
    const n = 1 + Math.floor(r() * 5);
    for (let k = 0; k < n; k++) {
      const side = [6 + r() * 25, 30 + r() * 70, 90 + r() * 150][Math.floor(r() * 3)];
      const b = box(r() * 300, r() * 300, side * (0.6 + r() * 0.8), side * (0.6 + r() * 0.8));
      const label = Math.floor(r() * 3); // category 3 never appears in the truth
      const iscrowd = r() < 0.08;
      const area = (b[2] - b[0]) * (b[3] - b[1]) * (r() < 0.3 ? 0.5 + r() : 1);
      gts.push({ image, box: b, label, iscrowd, area });
    }
  }
  for (const g of gts) {
    const copies = r() < 0.15 ? 0 : 1 + Math.floor(r() * 3); // some missed, some duplicated
    for (let k = 0; k < copies; k++) {
      const w = g.box[2] - g.box[0];
      const h = g.box[3] - g.box[1];
      const j = () => (r() - 0.5) * 0.25;
      const b = box(g.box[0] + j() * w, g.box[1] + j() * h, w * (1 + j()), h * (1 + j()));
      const label = r() < 0.9 ? g.label : Math.floor(r() * 4);
      dets.push({ image: g.image, box: b, label, score: r() });
    }
  }
  for (let k = 0; k < 120; k++) {
    const image = images[Math.floor(r() * images.length)];
    const s = 5 + r() * 150;
    dets.push({
      image,
      box: box(r() * 300, r() * 300, s, s * (0.5 + r())),
      label: Math.floor(r() * 4),
      score: r() * 0.8,
    });
  }
  return { images, categories, gts, dets };
}

type Ref = Record<"AP" | "AP50" | "AP75" | "APs" | "APm" | "APl", number | null>;

describe("COCO AP against an independent Python implementation", () => {
  for (const maxDet of [100, 3]) {
    it(`randomized detections, maxDets ${maxDet}`, () => {
      const s = randomSet(11 + maxDet);
      assert.ok(s.dets.length > 300, `${s.dets.length} detections`);
      assert.ok(s.gts.some((g) => g.iscrowd) && s.gts.some((g) => g.area < 32 ** 2));
      const input = JSON.stringify({ ...s, maxDet });
      const ref = JSON.parse(execFileSync(PYTHON, [REF], { input, encoding: "utf8" })) as Ref;
      const ours = cocoEvaluate(s.gts, s.dets, s.images, s.categories, maxDet);
      for (const k of ["AP", "AP50", "AP75", "APs", "APm", "APl"] as const) {
        const want = ref[k];
        assert.ok(want !== null, `${k}: the reference has no value`);
        assert.ok(Math.abs(ours[k] - want) <= 1e-9, `${k}: ours ${ours[k]} vs reference ${want}`);
        assert.ok(want > 0.02 && want < 0.98, `${k} = ${want}: not a telling value`);
      }
    });
  }
});
