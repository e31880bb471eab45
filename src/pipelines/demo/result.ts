// What the demo computes: every number of its report. The report module (src/report/)
// formats and draws it; nothing here depends on how.

import type { PairedTest } from "./pairedTest.js";

export type SpreadKind = "std" | "half-range";

/** Top-1 % per seed (in `setup.seeds` order), their mean and ± spread. */
export interface SeedRuns {
  runs: number[];
  mean: number;
  spread: number;
}

/** How a comparison's numbers were measured: the classification protocols, or a dense task
 * (fine-tuned, scored with the task's own metric). */
export type Protocol = "fine-tune" | "linear probe" | "segmentation" | "detection";

/** KDEP against one baseline under one transfer protocol, paired over seeds. */
export interface Comparison {
  baseline: string;
  protocol: Protocol;
  /** The metric compared, for a dense task ("mIoU", "AP50"); top-1 otherwise. */
  metric?: string;
  /** null with fewer than 2 seeds. */
  test: PairedTest | null;
}

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
  downstream: SeedRuns;
  /** Linear probe on the frozen backbone: the same seeds and labelled images. */
  probe?: SeedRuns;
  /** Upstream top-1 % of a linear probe on the frozen backbone (upstream test split). */
  upstream?: number;
  /** Pre-training curves, one value per epoch. */
  curve?: { epoch: number[]; trainLoss: number[]; valLoss?: number[]; lossName: string };
}

/**
 * A dense-prediction transfer row group (segmentation: mIoU %, detection: AP50 %) on an
 * offline task built from Fashion-MNIST canvases: per pre-training method id, one value per
 * seed. The report prints one table per task; the verdicts compare `metric`.
 */
export interface DenseTaskResult {
  task: "segmentation" | "detection";
  metric: "mIoU" | "AP50";
  byMethod: Record<string, SeedRuns>;
  /** A second metric shown beside the first (detection: COCO AP at IoU 0.50:0.95). */
  also?: { metric: string; byMethod: Record<string, SeedRuns> };
  /** The seeds of `byMethod`'s runs (default: the setup's seeds). */
  seeds?: number[];
  /** The task and its protocol in one sentence (data, model, schedule). */
  description?: string;
  /** Wall time of the whole task (every method and seed), seconds. */
  seconds?: number;
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
    /** The class split as indices, e.g. "upstream 0,1,2,3,4,6 / downstream 5,7,8,9". */
    split?: string;
    /** How each student's upstream top-1 was measured. */
    upstreamMeasure?: string;
    /** The test behind each verdict: its name and confidence level. */
    test?: { name: string; level: number };
    spreadKind: SpreadKind;
    epochs: Record<string, number>;
  };
  methods: MethodResult[];
  /** Segmentation and detection transfers; absent until the demo runs them. */
  dense?: DenseTaskResult[];
  /** KDEP against each baseline, per protocol (what the findings' verdicts rest on). */
  comparisons?: Comparison[];
  /** Honest sentences computed by the caller; printed verbatim. */
  findings: string[];
  totalSeconds: number;
  /** Where each run's metrics.jsonl lives; linked relative to the report folder. */
  runsDir: string;
}
