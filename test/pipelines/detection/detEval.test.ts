// The VOC07 and COCO evaluators on hand-computed cases: a perfect detector, duplicates,
// difficult objects and crowd regions, missing classes, empty images; and the two agree
// where their definitions coincide.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cocoEvaluate } from "../../../src/pipelines/transfer/detection/cocoEval.js";
import type {
  Box,
  Detection,
  GroundTruth,
} from "../../../src/pipelines/transfer/detection/evalTypes.js";
import { vocEvaluate } from "../../../src/pipelines/transfer/detection/vocEval.js";

const gt = (image: number, box: Box, label = 0, extra: Partial<GroundTruth> = {}): GroundTruth => ({
  image,
  box,
  label,
  ...extra,
});
const det = (image: number, box: Box, score: number, label = 0): Detection => ({
  image,
  box,
  label,
  score,
});
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} ≠ ${b}`);

describe("VOC07 11-point AP50", () => {
  it("a perfect detector scores 1 per class", () => {
    const g = [gt(1, [0, 0, 50, 50]), gt(1, [60, 60, 90, 100], 1), gt(2, [10, 10, 30, 40], 1)];
    const r = vocEvaluate(
      g,
      g.map((x, i) => det(x.image as number, x.box, 0.9 - i * 0.1, x.label)),
      2,
    );
    close(r.perClass[0], 1, "class 0");
    close(r.perClass[1], 1, "class 1");
    close(r.mAP, 1, "mAP");
  });

  it("a duplicate ranked between two hits: (6·1 + 5·2/3) / 11", () => {
    const g = [gt(1, [0, 0, 50, 50]), gt(1, [100, 100, 150, 150])];
    const d = [
      det(1, [0, 0, 50, 50], 0.9),
      det(1, [1, 1, 50, 50], 0.8),
      det(1, [100, 100, 150, 150], 0.7),
    ];
    close(vocEvaluate(g, d, 1).mAP, (6 + 5 * (2 / 3)) / 11, "AP");
  });

  it("hits on difficult objects count as neither right nor wrong", () => {
    const g = [gt(1, [0, 0, 50, 50], 0, { difficult: true }), gt(1, [100, 100, 150, 150])];
    const d = [det(1, [0, 0, 50, 50], 0.9), det(1, [100, 100, 150, 150], 0.8)];
    close(vocEvaluate(g, d, 1).mAP, 1, "AP");
  });

  it("a class without ground truth is NaN and left out of the mean; one never detected is 0", () => {
    const g = [gt(1, [0, 0, 50, 50], 0), gt(1, [60, 60, 90, 90], 1)];
    const d = [det(1, [0, 0, 50, 50], 0.9, 0), det(1, [0, 0, 20, 20], 0.9, 2)];
    const r = vocEvaluate(g, d, 3);
    close(r.perClass[0], 1, "class 0");
    assert.equal(r.perClass[1], 0);
    assert.ok(Number.isNaN(r.perClass[2]));
    close(r.mAP, 0.5, "mean over classes with ground truth");
  });

  it("a detection on an image without objects is a false positive", () => {
    const g = [gt(1, [0, 0, 50, 50])];
    const d = [det(2, [0, 0, 50, 50], 0.9), det(1, [0, 0, 50, 50], 0.8)];
    close(vocEvaluate(g, d, 1).mAP, 0.5, "AP");
  });
});

describe("COCO AP (pycocotools semantics)", () => {
  const IMAGES = [1, 2, 3];

  it("a perfect detector: every AP is 1, each size range included", () => {
    const g = [gt(1, [0, 0, 20, 20]), gt(1, [30, 30, 80, 80]), gt(2, [0, 0, 120, 120], 1)];
    const r = cocoEvaluate(
      g,
      g.map((x) => det(x.image as number, x.box, 0.9, x.label)),
      IMAGES,
      [0, 1],
    );
    for (const [k, v] of Object.entries(r)) close(v, 1, k);
  });

  it("a looser box ranked above the exact duplicate: AP (7 + 3·0.5) / 10, size ranges without objects NaN", () => {
    const g = [gt(1, [0, 0, 50, 50])];
    const d = [det(1, [0, 0, 50, 41], 0.9), det(1, [0, 0, 50, 50], 0.8)]; // IoU 0.82, then 1
    const r = cocoEvaluate(g, d, IMAGES, [0]);
    close(r.AP, 0.85, "AP");
    close(r.AP50, 1, "AP50");
    close(r.AP75, 1, "AP75");
    close(r.APm, 0.85, "APm");
    assert.ok(Number.isNaN(r.APs) && Number.isNaN(r.APl), "no small or large objects");
  });

  it("detections inside a crowd region are ignored; without the flag they are misses", () => {
    const crowd = gt(1, [100, 0, 200, 100], 0, { iscrowd: true });
    const d = [
      det(1, [110, 10, 150, 50], 0.95),
      det(1, [0, 0, 50, 50], 0.9),
      det(1, [150, 50, 190, 90], 0.85),
    ];
    close(
      cocoEvaluate([gt(1, [0, 0, 50, 50]), crowd], d, IMAGES, [0]).AP,
      1,
      "AP with the crowd region",
    );
    const plain = { ...crowd, iscrowd: false };
    // Two objects, one found after a false positive: precision 1/2 up to recall 1/2 (51 of
    // the 101 recall points), nothing beyond.
    close(
      cocoEvaluate([gt(1, [0, 0, 50, 50]), plain], d, IMAGES, [0]).AP50,
      (51 * 0.5) / 101,
      "AP50 without it",
    );
  });

  it("a category without ground truth is left out; one never detected counts 0", () => {
    const g = [gt(1, [0, 0, 50, 50], 0), gt(2, [0, 0, 50, 50], 1)];
    const d = [det(1, [0, 0, 50, 50], 0.9, 0), det(3, [0, 0, 50, 50], 0.9, 2)];
    close(cocoEvaluate(g, d, IMAGES, [0, 1, 2]).AP, 0.5, "AP");
  });

  it("a detection on an empty image is a false positive; an unknown image is an error", () => {
    const g = [gt(1, [0, 0, 50, 50])];
    const d = [det(3, [0, 0, 50, 50], 0.9), det(1, [0, 0, 50, 50], 0.8)];
    close(cocoEvaluate(g, d, IMAGES, [0]).AP, 0.5, "AP");
    assert.throws(
      () => cocoEvaluate(g, [det(7, [0, 0, 5, 5], 0.5)], IMAGES, [0]),
      /unknown image 7/,
    );
  });

  it("keeps only the 100 best detections per image and category", () => {
    const g = [gt(1, [0, 0, 50, 50])];
    const junk = Array.from({ length: 100 }, (_, i) => det(1, [200 + i, 0, 210 + i, 10], 0.9));
    close(
      cocoEvaluate(g, [...junk, det(1, [0, 0, 50, 50], 0.5)], IMAGES, [0]).AP,
      0,
      "hit is the 101st",
    );
    close(
      cocoEvaluate(g, [...junk.slice(1), det(1, [0, 0, 50, 50], 0.5)], IMAGES, [0]).AP,
      0.01,
      "hit is the 100th",
    );
  });
});

describe("VOC and COCO AP50 agree where their definitions coincide", () => {
  it("perfect detections and a false positive ranked first", () => {
    const g = [gt(1, [0, 0, 50, 50]), gt(2, [10, 10, 60, 90])];
    const cases: Detection[][] = [
      g.map((x) => det(x.image as number, x.box, 0.9)),
      [det(3, [0, 0, 50, 50], 0.99), ...g.map((x) => det(x.image as number, x.box, 0.9))],
    ];
    for (const d of cases) {
      close(vocEvaluate(g, d, 1).mAP, cocoEvaluate(g, d, [1, 2, 3], [0]).AP50, "AP50");
    }
  });
});
