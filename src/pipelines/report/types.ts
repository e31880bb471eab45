// Placeholder until the report branch lands (same shape).
export interface MethodResult {
  id: string;
  label: string;
  data: string;
  pretrainSeconds: number;
  downstream: { runs: number[]; mean: number; spread: number };
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
    spreadKind: "std" | "half-range";
    epochs: Record<string, number>;
  };
  methods: MethodResult[];
  findings: string[];
  totalSeconds: number;
  runsDir: string;
}
