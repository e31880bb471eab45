// Parity of the transforms with torchvision 0.14 (PIL path), given fixed parameters.
// The TS side reproduces Pillow's fixed-point resampling and blend arithmetic, so the
// uint8 results must be *identical*; the float stage allows 1e-6 (float32 rounding of
// intermediate values differs: torch rounds after every op, we once).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DecodedImage, decodeRgb } from "../../src/data/image.js";
import { Rng } from "../../src/data/rng.js";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  colorJitterParams,
  lightingOffset,
} from "../../src/data/transforms/color.js";
import {
  centerCrop,
  hflipInPlace,
  randomResizedCropParams,
  resizedCrop,
  resizeShorter,
} from "../../src/data/transforms/geometry.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../src/data/transforms/pipeline.js";
import { toNormalizedChw } from "../../src/data/transforms/tensor.js";
import { makeImage, maxAbsDiff, pythonScript, tempDir } from "./helpers.js";

const tmp = tempDir("transforms");
const files = {
  jpeg: join(tmp.dir, "a.jpg"),
  png: join(tmp.dir, "b.png"),
  webp: join(tmp.dir, "c.webp"),
};
type Op = Record<string, unknown> & { op: string };
const cases: Record<string, Op[]> = {};
const ALPHA = [0.03, -0.07, 0.05];

// Crop boxes exercising downscale (antialiased), upscale, identity and mixed.
const boxes = [
  { left: 37, top: 21, width: 300, height: 260, outW: 224, outH: 224 },
  { left: 0, top: 0, width: 500, height: 375, outW: 224, outH: 224 },
  { left: 100, top: 50, width: 90, height: 120, outW: 224, outH: 224 },
  { left: 5, top: 7, width: 224, height: 224, outW: 224, outH: 224 },
  { left: 10, top: 3, width: 400, height: 100, outW: 224, outH: 224 },
  { left: 250, top: 200, width: 17, height: 13, outW: 31, outH: 7 },
];
boxes.forEach((b, i) => {
  cases[`crop${i}`] = [{ op: "resized_crop", ...b }];
});
cases.resize = [
  { op: "resize", size: 256 },
  { op: "center_crop", size: 224 },
];
cases.centerPad = [{ op: "center_crop", size: 401 }];
cases.flip = [{ op: "hflip" }];
for (const f of [0.5, 0.9, 1.1, 1.7]) {
  cases[`brightness${f}`] = [{ op: "brightness", f }];
  cases[`contrast${f}`] = [{ op: "contrast", f }];
  cases[`saturation${f}`] = [{ op: "saturation", f }];
}
for (const f of [-0.4, -0.1, 0.05, 0.3]) cases[`hue${f}`] = [{ op: "hue", f }];
cases.float = [
  { op: "resized_crop", ...boxes[0] },
  { op: "to_tensor" },
  { op: "lighting", alpha: ALPHA },
  { op: "normalize", mean: IMAGENET_MEAN, std: IMAGENET_STD },
];

const ref = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(tmp.dir, `${name}.bin`)));
let img: DecodedImage;
const fresh = (): DecodedImage => ({ ...img, data: img.data.slice() });

before(async () => {
  makeImage(files.jpeg, 500, 375, 1);
  makeImage(files.png, 64, 48, 2);
  makeImage(files.webp, 64, 48, 3);
  // One Python process for all references (importing torch takes seconds).
  const all: Record<string, { image: string; ops: Op[] }> = {};
  for (const [name, ops] of Object.entries(cases)) all[name] = { image: files.jpeg, ops };
  for (const kind of ["jpeg", "png", "webp"] as const) all[kind] = { image: files[kind], ops: [] };
  pythonScript("transform_ref.py", [tmp.dir, JSON.stringify(all)]);
  img = await decodeRgb(files.jpeg, files.jpeg);
});
after(() => tmp.cleanup());

describe("decoding matches PIL's Image.open().convert('RGB')", () => {
  for (const kind of ["jpeg", "png", "webp"] as const) {
    test(kind, async () => {
      const ours = await decodeRgb(files[kind], files[kind]);
      // JPEG: decoded by the libjpeg-turbo Pillow links, with Pillow's settings (more
      // kinds of JPEG in jpeg.test.ts); PNG and WebP by sharp.
      assert.deepEqual(ours.data, ref(kind));
    });
  }
});

describe("geometry (bit-exact vs Pillow bilinear)", () => {
  boxes.forEach((b, i) => {
    test(`resized_crop ${b.width}x${b.height} -> ${b.outW}x${b.outH}`, () => {
      const out = resizedCrop(img, b, b.outW, b.outH);
      assert.equal(out.width, b.outW);
      assert.equal(maxAbsDiff(out.data, ref(`crop${i}`)), 0);
    });
  });
  test("Resize(256) + CenterCrop(224)", () => {
    const out = centerCrop(resizeShorter(img, 256), 224, 224);
    assert.deepEqual([out.width, out.height], [224, 224]);
    assert.equal(maxAbsDiff(out.data, ref("resize")), 0);
  });
  test("CenterCrop larger than the image pads with zeros", () => {
    const out = centerCrop(img, 401, 401);
    assert.equal(maxAbsDiff(out.data, ref("centerPad")), 0);
  });
  test("hflip", () => {
    assert.equal(maxAbsDiff(hflipInPlace(fresh()).data, ref("flip")), 0);
  });
  test("RandomResizedCrop fallback equals torchvision's (extreme aspect ratio)", () => {
    // 2000x10: no attempt can fit, both fall back to the deterministic centre crop.
    const box = randomResizedCropParams(new Rng(1), 2000, 10);
    assert.deepEqual(box, { left: 993, top: 0, width: 13, height: 10 });
  });
  test("RandomResizedCrop boxes stay inside, with scale and ratio in range", () => {
    const rng = new Rng(42);
    for (let k = 0; k < 2000; k++) {
      const b = randomResizedCropParams(rng, 500, 375);
      assert.ok(b.left >= 0 && b.top >= 0 && b.left + b.width <= 500 && b.top + b.height <= 375);
      const area = (b.width * b.height) / (500 * 375);
      assert.ok(area > 0.07 && area <= 1.0001, `area ${area}`);
      // round() of w and h can move the ratio slightly past the bounds for tiny crops.
      const r = b.width / b.height;
      assert.ok(r > 0.7 && r < 1.42, `ratio ${r}`);
    }
  });
});

describe("colour (bit-exact vs Pillow ImageEnhance / HSV)", () => {
  const ops = {
    brightness: adjustBrightness,
    contrast: adjustContrast,
    saturation: adjustSaturation,
  };
  for (const [name, fn] of Object.entries(ops)) {
    for (const f of [0.5, 0.9, 1.1, 1.7]) {
      test(`${name} ${f}`, () => {
        const x = fresh();
        fn(x, f);
        assert.equal(maxAbsDiff(x.data, ref(`${name}${f}`)), 0);
      });
    }
  }
  for (const f of [-0.4, -0.1, 0.05, 0.3]) {
    test(`hue ${f}`, () => {
      const x = fresh();
      adjustHue(x, f);
      assert.equal(maxAbsDiff(x.data, ref(`hue${f}`)), 0);
    });
  }
  test("ColorJitter params: a permutation and factors in range", () => {
    const rng = new Rng(7);
    for (let k = 0; k < 200; k++) {
      const p = colorJitterParams(rng, { brightness: 0.1, contrast: 0.1, saturation: 0.1 });
      assert.deepEqual([...p.order].sort(), [0, 1, 2, 3]);
      for (const v of [p.brightness, p.contrast, p.saturation]) assert.ok(v! >= 0.9 && v! <= 1.1);
      assert.equal(p.hue, null);
    }
  });
});

test("ToTensor + lighting + clamp + Normalize matches torch within 1e-6", () => {
  const cropped = resizedCrop(img, boxes[0], 224, 224);
  const out = new Float32Array(3 * 224 * 224);
  toNormalizedChw(
    cropped,
    { offset: lightingOffset(ALPHA), clamp: true, mean: IMAGENET_MEAN, std: IMAGENET_STD },
    out,
    0,
  );
  const r = new Float32Array(ref("float").buffer.slice(0));
  assert.equal(r.length, out.length);
  assert.ok(maxAbsDiff(out, r) < 1e-6, `max diff ${maxAbsDiff(out, r)}`);
});
