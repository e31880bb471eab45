// PhotoMetricDistortion against OpenCV (Debian's python3-opencv, 4.6) with the same image
// and the same drawn values on both sides. Tolerance: none — the uint8 output must be
// identical. Widths are not multiples of 32, so every row has pixels on both of OpenCV's
// HSV→BGR paths (AVX2 vector: fused multiply-add, truncation; scalar tail: rounding).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Rng } from "../../src/data/rng.js";
import {
  bgrToHsv8,
  drawPhotoMetric,
  hsvToBgr8,
  type PhotoMetricParams,
  photoMetricInPlace,
} from "../../src/data/transforms/photometric.js";
import {
  applySegOps,
  type SegOp,
  segParams,
  segTrainTransform,
  splitSegTransform,
} from "../../src/data/transforms/segmentation.js";
import { python, tempDir } from "./helpers.js";

const tmp = tempDir("photometric");
after(() => tmp.cleanup());

const W = 70;
const H = 45;

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.randint(0, 256);
  return out;
}

/** Runs cv2 on a raw H×W×3 file; `mode` picks the operation; returns the raw output. */
function cv2Run(data: Uint8Array, mode: string, params: PhotoMetricParams | null = null) {
  const inPath = join(tmp.dir, "in.bin");
  const outPath = join(tmp.dir, "out.bin");
  writeFileSync(inPath, data);
  python(
    `
import sys, json, numpy as np, cv2
src, dst, mode, h, w, p = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
img = np.fromfile(src, np.uint8).reshape(h, w, 3)

def convert(img, alpha=1, beta=0):
    # the reference's convert(): float32 multiply-add, clip, truncating cast
    img = img.astype(np.float32) * alpha + beta
    return np.clip(img, 0, 255).astype(np.uint8)

def distort(img, p):
    # KDEP semseg PhotoMetricDistortion.__call__ with its random values given
    if p["brightness"] is not None:
        img = convert(img, beta=p["brightness"])
    if p["contrastFirst"] and p["contrast"] is not None:
        img = convert(img, alpha=p["contrast"])
    if p["saturation"] is not None:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        img[:, :, 1] = convert(img[:, :, 1], alpha=p["saturation"])
        img = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
    if p["hue"] is not None:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        img[:, :, 0] = (img[:, :, 0].astype(int) + p["hue"]) % 180
        img = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
    if not p["contrastFirst"] and p["contrast"] is not None:
        img = convert(img, alpha=p["contrast"])
    return img

if mode == "bgr2hsv":
    out = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
elif mode == "hsv2bgr":
    out = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
else:
    out = distort(img, p)
np.ascontiguousarray(out).tofile(dst)
`,
    [inPath, outPath, mode, String(H), String(W), JSON.stringify(params)],
  );
  return new Uint8Array(readFileSync(outPath));
}

function assertSame(ours: Uint8Array, ref: Uint8Array, what: string) {
  assert.equal(ours.length, ref.length);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== ref[i]) {
      bad++;
      if (first < 0) first = i;
    }
  }
  assert.equal(
    bad,
    0,
    `${what}: ${bad} bytes differ, first at ${first}: ${ours[first]} vs ${ref[first]}`,
  );
}

describe("OpenCV 8-bit HSV conversions", () => {
  test("BGR→HSV equals cv2 on random colours and greys", () => {
    const img = randomBytes(W * H * 3, 1);
    for (let i = 0; i < 3 * W; i += 3) img[i] = img[i + 1] = img[i + 2] = i / 3; // greys
    const ours = img.slice();
    bgrToHsv8(ours);
    assertSame(ours, cv2Run(img, "bgr2hsv"), "BGR2HSV");
  });

  test("HSV→BGR equals cv2 on both its vector and scalar paths", () => {
    const img = randomBytes(W * H * 3, 2);
    for (let i = 0; i < img.length; i += 3) img[i] %= 180;
    for (let i = 0; i < 3 * W; i += 3) img[i + 1] = 0; // s = 0 row
    const ours = img.slice();
    hsvToBgr8(ours, W);
    assertSame(ours, cv2Run(img, "hsv2bgr"), "HSV2BGR");
  });
});

const all: PhotoMetricParams[] = [
  { brightness: 17.3, contrastFirst: true, contrast: 1.37, saturation: 0.61, hue: -18 },
  { brightness: -29.9, contrastFirst: false, contrast: 0.55, saturation: 1.49, hue: 17 },
  { brightness: null, contrastFirst: true, contrast: null, saturation: 1.2, hue: 5 },
];
for (let seed = 0; seed < 5; seed++) all.push(drawPhotoMetric(new Rng(100 + seed)));

describe("photometric distortion", () => {
  test("equals the reference's steps run with cv2, given the same values", () => {
    const img = randomBytes(W * H * 3, 3);
    for (const p of all) {
      const ours = img.slice();
      photoMetricInPlace(ours, p, { width: W, x0: 0, fullW: W });
      assertSame(ours, cv2Run(img, "distort", p), JSON.stringify(p));
    }
  });

  test("draws in range, with every step sometimes on and sometimes off", () => {
    const seen = { brightness: 0, contrast: 0, saturation: 0, hue: 0, first: 0 };
    const n = 400;
    for (let s = 0; s < n; s++) {
      const p = drawPhotoMetric(new Rng(7, s));
      if (p.brightness !== null) {
        seen.brightness++;
        assert.ok(p.brightness >= -32 && p.brightness < 32);
      }
      if (p.contrast !== null) {
        seen.contrast++;
        assert.ok(p.contrast >= 0.5 && p.contrast < 1.5);
      }
      if (p.saturation !== null) {
        seen.saturation++;
        assert.ok(p.saturation >= 0.5 && p.saturation < 1.5);
      }
      if (p.hue !== null) {
        seen.hue++;
        assert.ok(Number.isInteger(p.hue) && p.hue >= -18 && p.hue <= 17);
      }
      if (p.contrastFirst) seen.first++;
    }
    for (const [k, v] of Object.entries(seen)) assert.ok(v > n * 0.4 && v < n * 0.6, `${k}: ${v}`);
  });
});

describe("in the segmentation pipeline", () => {
  test("comes after the blur and before the flip; --no-photometric drops it", () => {
    const ops = (t: ReturnType<typeof segTrainTransform>) => t.steps.map((s) => s.op);
    assert.deepEqual(ops(segTrainTransform()).slice(2, 5), ["randBlur", "photoMetric", "hflip"]);
    assert.ok(!ops(segTrainTransform({ photoMetric: false })).includes("photoMetric"));
    const drawn = segParams(new Rng(3), splitSegTransform(segTrainTransform()).pixel, 600, 400);
    assert.ok(drawn.some((o) => o.op === "photometric"));
  });

  test("on a tile equals the whole image distorted, then flipped and cropped; mask untouched", () => {
    const image = { data: randomBytes(W * H * 3, 4), width: W, height: H, channels: 3 };
    const mask = { data: randomBytes(W * H, 5), width: W, height: H, channels: 1 };
    const params = all[0];
    const tail: SegOp[] = [
      { op: "hflip" },
      {
        ...{ op: "padCrop" as const, pad: [0, 0, 0, 0] as [number, number, number, number] },
        left: 9,
        top: 4,
        width: 37,
        height: 30,
        fill: [0, 0, 0],
        ignore: 255,
      },
    ];
    const got = applySegOps({ image, mask }, [{ op: "photometric", params }, ...tail]);
    const whole = image.data.slice();
    photoMetricInPlace(whole, params, { width: W, x0: 0, fullW: W });
    const want = applySegOps({ image: { ...image, data: whole }, mask }, tail);
    assertSame(got.image.data, want.image.data, "image");
    assertSame(got.mask.data, want.mask.data, "mask");
  });
});
