// Segmentation metrics against numpy (semseg's intersectionAndUnion: histograms of the
// intersection, prediction and target, summed over the set), with ignore pixels, a class
// absent from everything and a class that is only ever predicted. Equality is exact: the
// counts are integers and each ratio is one float64 division on both sides.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfusionMatrix, perClassTable } from "../../src/pipelines/transfer/segMetrics.js";
import { runPythonJson } from "../helpers/python.js";

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("segmentation metrics", () => {
  it("mIoU, pixel accuracy, per-class IoU and the confusion matrix equal numpy's", () => {
    const C = 6;
    const r = lcg(11);
    const images = [
      [37, 41],
      [13, 29],
    ];
    const preds: number[][] = [];
    const truths: number[][] = [];
    const cm = new ConfusionMatrix(C);
    for (const [h, w] of images) {
      const t: number[] = [];
      const p: number[] = [];
      for (let i = 0; i < h * w; i++) {
        // Class 4 never occurs; class 5 is only predicted; 255 on ~15% of pixels.
        const truth = r() < 0.15 ? 255 : [0, 1, 2, 3][Math.floor(r() * 4)];
        const pred = r() < 0.6 && truth !== 255 ? truth : [0, 1, 2, 3, 5][Math.floor(r() * 5)];
        t.push(truth);
        p.push(pred);
      }
      truths.push(t);
      preds.push(p);
      cm.addArrays(Int32Array.from(p), Int32Array.from(t));
    }
    const ref = runPythonJson<{
      iou: number[];
      acc: number[];
      miou: number;
      allacc: number;
      macc: number;
      hist: number[];
    }>(
      `
import sys, json, numpy as np
C = ${C}
preds, truths = json.loads(sys.argv[1]), json.loads(sys.argv[2])
I = np.zeros(C); U = np.zeros(C); T = np.zeros(C); hist = np.zeros((C, C), np.int64)
for p, t in zip(preds, truths):
    p, t = np.array(p), np.array(t)
    keep = t != 255
    p, t = p[keep], t[keep]
    inter = p[p == t]
    ai = np.histogram(inter, bins=C, range=(0, C - 1))[0]
    ap = np.histogram(p, bins=C, range=(0, C - 1))[0]
    at = np.histogram(t, bins=C, range=(0, C - 1))[0]
    I += ai; U += ap + at - ai; T += at
    hist += np.bincount(t * C + p, minlength=C * C).reshape(C, C)
iou = I / (U + 1e-10); acc = I / (T + 1e-10)
mean = lambda xs: sum(float(x) for x in xs) / len(xs)
print(json.dumps({"iou": iou.tolist(), "acc": acc.tolist(), "miou": mean(iou),
  "allacc": float(sum(I) / (sum(T) + 1e-10)), "macc": mean(acc), "hist": hist.flatten().tolist()}))
`,
      [JSON.stringify(preds), JSON.stringify(truths)],
    );
    const m = cm.metrics();
    assert.deepEqual(Array.from(cm.counts), ref.hist);
    assert.deepEqual(m.iou, ref.iou);
    assert.deepEqual(m.acc, ref.acc);
    assert.equal(m.mIoU, ref.miou);
    assert.equal(m.pixelAcc, ref.allacc);
    assert.equal(m.meanAcc, ref.macc);
    assert.equal(m.iou[4], 0, "an absent class has IoU 0 and counts in the mean");
    assert.equal(m.iou[5], 0, "a class only predicted has IoU 0");
    // Present classes: 0..3 and 5 (predicted), not 4.
    const present = [0, 1, 2, 3, 5].map((c) => m.iou[c]);
    assert.equal(m.mIoUPresent, present.reduce((a, b) => a + b, 0) / 5);
    const names = ["a", "b", "c", "d", "e", "f,g"];
    const csv = cm.toCsv(names).trim().split("\n");
    assert.equal(csv.length, C + 1);
    assert.equal(csv[6].split(",")[0], '"f');
    assert.match(perClassTable(names, m), /\| 4 \| e \| 0\.00 \|/);
  });

  it("names the bad label: a value ≥ classes that is not the ignore label", () => {
    const cm = new ConfusionMatrix(3);
    assert.throws(
      () => cm.addArrays(Int32Array.from([0, 1]), Int32Array.from([0, 7]), "masks/x.png"),
      /masks\/x\.png: label 7 at pixel 1 is outside 0\.\.2/,
    );
  });
});
