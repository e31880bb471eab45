// A DemoReport shaped like a quick demo run, with hand-picked per-seed accuracies.
// Means and spreads are computed here by hand (not by the code under test) and spelled
// out so the tests can compare formatted strings.
import type { DemoReport, MethodResult } from "../../src/report/types.js";

// Sample std of [a, b, c] written out: sqrt(((a-m)² + (b-m)² + (c-m)²) / 2).
// kdep   [75.1, 75.9, 76.2]: m = 75.7333…, std = sqrt((0.40111+0.02778+0.21778)/2) = 0.5686
// sup10  [70.0, 71.0, 72.0]: m = 71.0, std = 1.0
// random [50.5, 49.5, 51.5]: m = 50.5, std = 1.0
// sup100 [74.0, 74.4, 74.8]: m = 74.4, std = 0.4
const m = (
  id: string,
  label: string,
  data: string,
  pretrainSeconds: number,
  runs: number[],
  mean: number,
  spread: number,
  curve?: MethodResult["curve"],
): MethodResult => ({
  id,
  label,
  data,
  pretrainSeconds,
  downstream: { runs, mean, spread },
  curve,
});

const epochs = [1, 2, 3, 4, 5, 6];
const decay = (a: number, b: number) => epochs.map((e) => a * Math.exp(-e / 3) + b);

export function demoFixture(runsDir: string): DemoReport {
  return {
    title: "KDEP demo — Fashion-MNIST",
    createdAt: "2025-01-02T03:04:05Z",
    mode: "quick",
    machine: { cores: 16, threads: 16, libtorch: "2.5.1", node: "v20.19.0" },
    setup: {
      dataset: "Fashion-MNIST",
      upstreamClasses: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"],
      downstreamClasses: ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
      upstreamImages: 30000,
      subsetImages: 3000,
      subsetFraction: 0.1,
      downstreamTrainPerClass: 20,
      downstreamTestImages: 5000,
      imageSize: 32,
      teacher: { arch: "resnet18", width: 64, accuracy: 91.234, seconds: 842, cached: true },
      student: { arch: "resnet18", width: 16 },
      seeds: [0, 1, 2],
      spreadKind: "std",
      epochs: { teacher: 10, distill: 6, supervised: 6, transfer: 20 },
    },
    methods: [
      m("random", "Random init", "—", 0, [50.5, 49.5, 51.5], 50.5, 1.0),
      m("sup10", "Supervised", "10%", 95.4, [70, 71, 72], 71.0, 1.0, {
        epoch: epochs,
        trainLoss: decay(2.2, 0.3),
        valLoss: decay(2.3, 0.4),
        lossName: "CE",
      }),
      m("sup100", "Supervised", "100%", 912.6, [74.0, 74.4, 74.8], 74.4, 0.4, {
        epoch: epochs,
        trainLoss: decay(2.2, 0.2),
        lossName: "CE",
      }),
      m("kdep", "KDEP (SVD + PTS)", "10%", 120.2, [75.1, 75.9, 76.2], 75.73333333333333, 0.5686, {
        epoch: epochs,
        trainLoss: decay(1.5, 0.05),
        valLoss: decay(1.6, 0.07),
        lossName: "MSE",
      }),
    ],
    findings: [
      "KDEP beats supervised 10% by 4.73 points.",
      "KDEP matches supervised 100% <within spread> at 13% of its pre-training time & cost.",
    ],
    totalSeconds: 2345,
    runsDir,
  };
}

/** The formatted results rows the Markdown table must contain, per method id. */
export const EXPECTED_ROWS: Record<string, string[]> = {
  random: ["Random init", "—", "—", "50.50 ± 1.00", "50.50", "49.50", "51.50"],
  sup10: ["Supervised", "10%", "1 min 35 s", "71.00 ± 1.00", "70.00", "71.00", "72.00"],
  sup100: ["Supervised", "100%", "15 min 13 s", "74.40 ± 0.40", "74.00", "74.40", "74.80"],
  kdep: ["KDEP (SVD + PTS)", "10%", "2 min", "75.73 ± 0.57", "75.10", "75.90", "76.20"],
};
