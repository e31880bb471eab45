// Input types of the report writers. The caller (the demo, `kdep transfer suite`) computes
// every number; the report only formats and draws them. Presentation sits above the
// pipelines: it may import their result types, never the other way round.

export type {
  Comparison,
  DemoReport,
  MethodResult,
  SpreadKind,
} from "../pipelines/demo/result.js";

/** One (student, dataset) cell of `kdep transfer suite`: top-1 % of each run. */
export interface SuiteRow {
  student: string;
  dataset: string;
  runs: number[];
}
