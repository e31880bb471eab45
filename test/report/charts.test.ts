import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { barChart, lineChart, svgToPng } from "../../src/report/charts.js";
import { esc } from "../../src/report/svg.js";
import { assertWellFormedXml } from "./xml.js";

const bars = [
  { label: "Random init", value: 50.5, error: 1 },
  { label: "Supervised\n10%", value: 71, error: 1 },
  { label: "Supervised\n100%", value: 74.4, error: 0.4 },
  { label: "KDEP (SVD + PTS) & <friends>", value: 75.73, error: 0.57, highlight: true },
];

test("barChart: well-formed SVG with every label, value and error bar", () => {
  const svg = barChart({ title: "Top-1", yLabel: "top-1 (%)", bars, errorNote: "± std" });
  assertWellFormedXml(svg);
  for (const b of bars) assert.ok(svg.includes(esc(b.label.replace("\n", " · "))), b.label);
  for (const v of ["50.5", "71.0", "74.4", "75.7"]) assert.ok(svg.includes(`>${v}</text>`), v);
  assert.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, bars.length, "one rect per bar");
  // Repeated labels ("Supervised") still get their own slots.
  const xs = [...svg.matchAll(/<rect x="([\d.]+)"[^>]*><title>/g)].map((m) => Number(m[1]));
  assert.equal(new Set(xs).size, bars.length);
  assert.ok(svg.includes("± std"), "legend explains the error bars");
});

test("barChart: grouped bars are coloured per label and keep their group order", () => {
  const svg = barChart({
    title: "Suite",
    yLabel: "top-1",
    bars: ["CIFAR-100", "DTD", "mean of datasets"].flatMap((group, i) => [
      { group, label: "resnet18", value: 70 + i, error: 0.5 },
      { group, label: "mobilenetv2", value: 60 + i },
    ]),
  });
  assertWellFormedXml(svg);
  const at = (s: string) => svg.indexOf(`>${s}`);
  assert.ok(at("CIFAR-100") > 0 && at("CIFAR-100") < at("DTD") && at("DTD") < at("mean of"));
  assert.ok(svg.includes(">resnet18</text>") && svg.includes(">mobilenetv2</text>"), "legend");
  const fills = [...svg.matchAll(/<rect x[^>]*fill="(#[0-9a-f]+)"[^>]*><title>/g)].map((m) => m[1]);
  assert.equal(new Set(fills).size, 2);
});

test("lineChart: log axis, dashed series, gaps for non-positive values", () => {
  const svg = lineChart({
    title: "Loss",
    xLabel: "epoch",
    yLabel: "loss",
    logY: true,
    series: [
      { name: "train", x: [1, 2, 3, 4], y: [2, 1, 0, 0.25] },
      { name: "val", x: [1, 2, 3, 4], y: [2.2, 1.2, 0.6, 0.3], dashed: true },
    ],
  });
  assertWellFormedXml(svg);
  assert.ok(svg.includes("loss (log scale)"));
  assert.ok(svg.includes("stroke-dasharray"));
  const train = /<path d="([^"]+)"[^>]*><title>train<\/title>/.exec(svg)?.[1] ?? "";
  assert.equal((train.match(/M/g) ?? []).length, 2, "the zero loss breaks the line");
});

test("svgToPng renders at the requested width with text drawn", async () => {
  const svg = barChart({ title: "Top-1", yLabel: "top-1 (%)", bars });
  const png = await svgToPng(svg, { width: 900 });
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, "png");
  assert.equal(meta.width, 900);
  assert.equal(meta.height, Math.round((420 * 900) / 720));
  const big = await sharp(await svgToPng(svg)).metadata();
  assert.equal(big.width, 1440, "default is twice the SVG width");
  // The title band (top 40 px of 420) must contain dark text pixels, not only white.
  const { data, info } = await sharp(png)
    .extract({ left: 0, top: 0, width: 900, height: 50 })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i] < 100) dark++;
  assert.ok(dark > 200, `title text rendered (${dark} dark pixels)`);
});
