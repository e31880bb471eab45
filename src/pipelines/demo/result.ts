// What the demo computes: every number of its report. The report module (src/report/)
// formats and draws it; nothing here depends on how.

export type SpreadKind = "std" | "half-range";

export interface MethodResult {
  /** "kdep", "random", "sup10", "sup100", "logitkd", "linear" */
  id: string;
  /** "KDEP (SVD + PTS)", "Random init", ... */
  label: string;
  /** Fraction of the upstream data used for pre-training: "10%", "100%", "—". */
  data: string;
  /** 0 for random init. */
  pretrainSeconds: number;
  /** Downstream top-1 % per seed, their mean and ± spread (kind in `setup.spreadKind`). */
  downstream: { runs: number[]; mean: number; spread: number };
  /** Pre-training curves, one value per epoch. */
  curve?: { epoch: number[]; trainLoss: number[]; valLoss?: number[]; lossName: string };
}

export interface DemoReport {
  title: string;
  createdAt: string;
  mode: "full" | "quick";
  machine: { cores: number; threads: number; libtorch: string; node: string };
  setup: {
    dataset: string;
    upstreamClasses: string[];
    downstreamClasses: string[];
    upstreamImages: number;
    subsetImages: number;
    subsetFraction: number;
    downstreamTrainPerClass: number;
    downstreamTestImages: number;
    imageSize: number;
    teacher: { arch: string; width: number; accuracy: number; seconds: number; cached: boolean };
    student: { arch: string; width: number };
    seeds: number[];
    spreadKind: SpreadKind;
    epochs: Record<string, number>;
  };
  methods: MethodResult[];
  /** Honest sentences computed by the caller; printed verbatim. */
  findings: string[];
  totalSeconds: number;
  /** Where each run's metrics.jsonl lives; linked relative to the report folder. */
  runsDir: string;
}
