// The kdep_image addon: JPEG decoding against PIL for each kind of JPEG a dataset holds,
// region decoding against whole-image decoding, errors, and the native resize against
// the TypeScript one (both are held to torchvision in transforms.test.ts).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DecodedImage, decodeRgb, ImageDecodeError, openImage } from "../../src/data/image.js";
import { imageAddon } from "../../src/data/imageAddon.js";
import { Rng } from "../../src/data/rng.js";
import { resizeBilinear, resizeBilinearJs } from "../../src/data/transforms/resample.js";
import { maxAbsDiff, python, tempDir } from "./helpers.js";

const tmp = tempDir("jpeg");
// name → PIL save options; the image is made RGB then converted to `mode` before saving.
const kinds: Record<string, { mode: string; size: [number, number]; opts: string }> = {
  yuv420: { mode: "RGB", size: [500, 375], opts: "quality=90" },
  yuv444: { mode: "RGB", size: [333, 251], opts: "quality=95, subsampling=0" },
  yuv422: { mode: "RGB", size: [257, 190], opts: "quality=85, subsampling=1" },
  gray: { mode: "L", size: [301, 207], opts: "quality=90" },
  progressive: { mode: "RGB", size: [400, 300], opts: "quality=90, progressive=True" },
  cmyk: { mode: "CMYK", size: [64, 48], opts: "quality=90" },
};
const file = (k: string): string => join(tmp.dir, `${k}.jpg`);

before(() => {
  // Each JPEG and PIL's Image.open(f).convert("RGB") of it as raw bytes beside it.
  python(
    `
import json, sys, numpy as np
from PIL import Image
out, kinds = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(3)
for name, k in kinds.items():
    w, h = k["size"]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 100 * np.sin(x / 9) * np.cos(y / 13), 255 * x / w, 255 * ((x // 19 + y // 23) % 2)], -1)
    img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    path = f"{out}/{name}.jpg"
    eval(f"Image.fromarray(img).convert(k['mode']).save(path, {k['opts']})")
    with open(f"{out}/{name}.bin", "wb") as f:
        f.write(np.asarray(Image.open(path).convert("RGB")).tobytes())
`,
    [tmp.dir, JSON.stringify(kinds)],
  );
});
after(() => tmp.cleanup());

describe("JPEG decoding equals PIL's Image.open().convert('RGB')", () => {
  for (const k of Object.keys(kinds)) {
    if (k === "cmyk") continue;
    test(k, async () => {
      const img = await decodeRgb(file(k), file(k));
      assert.deepEqual([img.width, img.height, img.channels], [...kinds[k].size, 3]);
      assert.equal(maxAbsDiff(img.data, readFileSync(join(tmp.dir, `${k}.bin`))), 0);
    });
  }
  test("CMYK JPEGs are left to sharp and still come out RGB", async () => {
    const img = await decodeRgb(file("cmyk"), "cmyk");
    assert.deepEqual([img.width, img.height, img.channels], [64, 48, 3]);
    assert.equal(img.data.length, 64 * 48 * 3);
  });
});

describe("a decoded region equals the same pixels of the whole image", () => {
  for (const k of ["yuv420", "yuv444", "yuv422", "gray", "progressive"]) {
    test(k, async () => {
      const bytes = new Uint8Array(readFileSync(file(k)));
      const src = await openImage(bytes, k);
      const whole = src.decode();
      const rng = new Rng(11);
      const [W, H] = kinds[k].size;
      for (let n = 0; n < 150; n++) {
        const w = 1 + rng.randint(0, W);
        const h = 1 + rng.randint(0, H);
        const box = {
          left: rng.randint(0, W - w + 1),
          top: rng.randint(0, H - h + 1),
          width: w,
          height: h,
        };
        const r = src.decode(box);
        assert.ok(r.left <= box.left && r.top <= box.top, "region starts before the box");
        assert.ok(r.left + r.width >= box.left + w && r.top + r.height >= box.top + h);
        for (let y = box.top; y < box.top + h; y++) {
          const a = r.data.subarray(((y - r.top) * r.width + box.left - r.left) * 3);
          const b = whole.data.subarray((y * W + box.left) * 3);
          for (let i = 0; i < w * 3; i++) {
            if (a[i] !== b[i]) assert.fail(`${k} box ${JSON.stringify(box)}: row ${y} differs`);
          }
        }
      }
    });
  }
});

describe("decode errors", () => {
  test("a truncated JPEG is refused, as PIL refuses it", async () => {
    const bytes = readFileSync(file("yuv420"));
    const cut = join(tmp.dir, "cut.jpg");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(decodeRgb(cut, cut), (e: unknown) => {
      assert.ok(e instanceof ImageDecodeError);
      assert.match(e.message, /cut\.jpg.*truncated/);
      return true;
    });
  });
  test("garbage after the JPEG markers names the file", async () => {
    const bad = join(tmp.dir, "bad.jpg");
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]));
    await assert.rejects(decodeRgb(bad, bad), /Cannot decode image .*bad\.jpg/);
  });
  test("a region outside the image is a RangeError, not a decode error", async () => {
    const src = await openImage(new Uint8Array(readFileSync(file("gray"))), "gray");
    assert.throws(() => src.decode({ left: 300, top: 0, width: 2, height: 2 }), RangeError);
  });
});

test("the native resize equals the TypeScript one (bit for bit)", async () => {
  assert.ok(imageAddon, "the kdep_image addon is not built (npm run build:native)");
  const rgb = await decodeRgb(file("yuv444"), "yuv444");
  const gray: DecodedImage = {
    data: rgb.data.filter((_, i) => i % 3 === 1),
    width: rgb.width,
    height: rgb.height,
    channels: 1,
  };
  const rng = new Rng(5);
  for (const img of [rgb, gray]) {
    for (let n = 0; n < 60; n++) {
      const w = 1 + rng.randint(0, img.width);
      const h = 1 + rng.randint(0, img.height);
      const box = {
        left: rng.randint(0, img.width - w + 1),
        top: rng.randint(0, img.height - h + 1),
        width: w,
        height: h,
      };
      // Down- and upscales, and one side kept (a pass skipped).
      const outW = n % 7 === 0 ? w : 1 + rng.randint(0, 300);
      const outH = n % 5 === 0 ? h : 1 + rng.randint(0, 300);
      const a = resizeBilinear(img, box, outW, outH);
      const b = resizeBilinearJs(img, box, outW, outH);
      assert.deepEqual([a.width, a.height], [b.width, b.height]);
      assert.equal(maxAbsDiff(a.data, b.data), 0, `box ${JSON.stringify(box)} → ${outW}x${outH}`);
    }
  }
});
