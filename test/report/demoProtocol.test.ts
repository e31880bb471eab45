// The report under the seeds protocol: upstream top-1 and linear-probe columns, the
// teacher's row, the per-seed probe table and the paired-test table, from hand-picked numbers.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeDemoReport } from "../../src/report/demoReport.js";
import type { DemoReport } from "../../src/report/types.js";
import { demoFixture } from "./fixture.js";

// Probe runs: kdep [60, 61, 62] → mean 61, std 1; others [55, 56, 57] → mean 56, std 1.
function protocolFixture(runsDir: string): DemoReport {
  const base = demoFixture(runsDir);
  const ups: Record<string, number> = { random: 40.125, sup10: 80.5, sup100: 88, kdep: 84.25 };
  return {
    ...base,
    setup: {
      ...base.setup,
      split: "upstream 0,1,2,3,4 / downstream 5,6,7,8,9",
      upstreamMeasure: "linear probe on the frozen backbone",
      test: { name: "paired t-test over seeds (two-sided)", level: 0.95 },
    },
    methods: base.methods.map((m) => ({
      ...m,
      upstream: ups[m.id],
      probe:
        m.id === "kdep"
          ? { runs: [60, 61, 62], mean: 61, spread: 1 }
          : { runs: [55, 56, 57], mean: 56, spread: 1 },
    })),
    dense: [
      {
        task: "segmentation",
        metric: "mIoU",
        byMethod: { kdep: { runs: [40, 42], mean: 41, spread: Math.SQRT2 } },
      },
      {
        task: "detection",
        metric: "AP50",
        seeds: [0, 1],
        seconds: 95,
        description: "Faster R-CNN fine-tuned on canvases",
        byMethod: {
          kdep: { runs: [30, 34], mean: 32, spread: 2 * Math.SQRT2 },
          random: { runs: [25.5, 28], mean: 26.75, spread: 1.25 * Math.SQRT2 },
        },
        also: {
          metric: "AP",
          byMethod: {
            kdep: { runs: [10, 12], mean: 11, spread: Math.SQRT2 },
            random: { runs: [9, 9], mean: 9, spread: 0 },
          },
        },
      },
    ],
    comparisons: [
      {
        baseline: "sup10",
        protocol: "fine-tune",
        test: {
          n: 3,
          meanDiff: 4.7333,
          sdDiff: 0.8,
          t: 10.248,
          df: 2,
          p: 0.0094,
          ci: [2.746, 6.721],
          level: 0.95,
        },
      },
      { baseline: "sup100", protocol: "linear probe", test: null },
      {
        baseline: "random",
        protocol: "detection",
        metric: "AP50",
        test: {
          n: 2,
          meanDiff: 5.25,
          sdDiff: 2.4749,
          t: 3,
          df: 1,
          p: 0.2048,
          ci: [-16.99, 27.49],
          level: 0.95,
        },
      },
    ],
  };
}

test("results, probe and paired-test tables", async () => {
  const root = mkdtempSync(join(tmpdir(), "kdep-report-protocol-"));
  try {
    const out = await writeDemoReport(join(root, "report"), protocolFixture(join(root, "runs")));
    const md = readFileSync(out.md, "utf8").split("\n");
    const row = (start: string) => md.find((l) => l.startsWith(start)) ?? "";
    assert.equal(
      row("| Pre-training | Data | Pre-training time |"),
      "| Pre-training | Data | Pre-training time | Upstream top-1 % | Fine-tuned top-1 % (mean ± std) | Linear probe top-1 % (mean ± std) | FT seed 0 | FT seed 1 | FT seed 2 |",
    );
    assert.equal(
      row("| Teacher (resnet18) |"),
      "| Teacher (resnet18) | 100% | 14 min 2 s | 91.23 | — | — |  |  |  |",
    );
    assert.equal(
      row("| **KDEP"),
      "| **KDEP (SVD + PTS)** | **10%** | **2 min** | **84.25** | **75.73 ± 0.57** | **61.00 ± 1.00** | **75.10** | **75.90** | **76.20** |",
    );
    assert.equal(
      row("| Random init |"),
      "| Random init | — | — | 40.13 | 50.50 ± 1.00 | 56.00 ± 1.00 | 50.50 | 49.50 | 51.50 |",
    );
    assert.equal(
      row("| Pre-training | Data | LP seed 0"),
      "| Pre-training | Data | LP seed 0 | LP seed 1 | LP seed 2 |",
    );
    assert.equal(
      row("| KDEP (SVD + PTS) | 10% | 60"),
      "| KDEP (SVD + PTS) | 10% | 60.00 | 61.00 | 62.00 |",
    );
    assert.ok(md.includes("### paired t-test over seeds (two-sided): KDEP − baseline"));
    assert.equal(
      row("| Supervised (10%) |"),
      "| Supervised (10%) | fine-tune | 4.73 | [2.75, 6.72] | 10.25 (2) | 0.009 |",
    );
    assert.equal(
      row("| Supervised (100%) |"),
      "| Supervised (100%) | linear probe | — | — | — | — |",
    );
    assert.ok(md.includes("### Segmentation (mIoU %)"));
    assert.equal(
      row("| Pre-training | Data | mIoU"),
      "| Pre-training | Data | mIoU % (mean ± std) | mIoU seed 0 | mIoU seed 1 |",
      "seeds default to the setup's",
    );
    assert.equal(
      row("| KDEP (SVD + PTS) | 10% | 41"),
      "| KDEP (SVD + PTS) | 10% | 41.00 ± 1.41 | 40.00 | 42.00 |",
    );
    // Detection: its own metric, the second metric beside it, per-seed AP50, its description.
    assert.ok(md.includes("### Detection (AP50 %)"));
    assert.ok(md.includes("Faster R-CNN fine-tuned on canvases."));
    assert.equal(
      row("| Pre-training | Data | AP50"),
      "| Pre-training | Data | AP50 % (mean ± std) | AP % (mean ± std) | AP50 seed 0 | AP50 seed 1 |",
    );
    assert.equal(
      row("| KDEP (SVD + PTS) | 10% | 32"),
      "| KDEP (SVD + PTS) | 10% | 32.00 ± 2.83 | 11.00 ± 1.41 | 30.00 | 34.00 |",
    );
    assert.equal(
      row("| Random init | — | 26"),
      "| Random init | — | 26.75 ± 1.77 | 9.00 ± 0.00 | 25.50 | 28.00 |",
    );
    assert.equal(
      row("| Random init | detection"),
      "| Random init | detection (AP50) | 5.25 | [-16.99, 27.49] | 3.00 (1) | 0.205 |",
    );
    assert.ok(
      md.join("\n").includes("| Detection | seeds 0, 1, 1 min 35 s for every method and seed |"),
    );
    assert.ok(
      md
        .join("\n")
        .includes(
          "segmentation (mIoU, seeds 0, 1, 2) and detection (AP50 and AP, seeds 0, 1), each scored with its own metric",
        ),
    );
    const text = md.join("\n");
    assert.ok(
      text.includes("| Split (class indices) | upstream 0,1,2,3,4 / downstream 5,6,7,8,9 |"),
    );
    assert.ok(
      text.includes("| Verdict test | paired t-test over seeds (two-sided), 95% confidence |"),
    );
    assert.ok(
      text.includes('says "beats" only when that test rejects "no difference" at the 5% level'),
    );
    const html = readFileSync(out.html, "utf8");
    const results = /<table class="results">[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
    assert.equal((results.match(/<tr[ >]/g) ?? []).length, 1 + 1 + 4, "header, teacher, methods");
    assert.ok(
      results.includes('<tr class="best"><td>KDEP (SVD + PTS)</td>'),
      "best row shifted past the teacher",
    );
    assert.ok(/<table class="tests">[\s\S]*?0\.009/.test(html));
    const dense = html.match(/<table class="dense">[\s\S]*?<\/table>/g) ?? [];
    assert.equal(dense.length, 2, "one table per dense task");
    assert.ok(dense[1].includes("<td>32.00 ± 2.83</td>") || dense[1].includes(">32.00 ± 2.83<"));
    assert.ok(html.includes("<h3>Detection (AP50 %)</h3>"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
