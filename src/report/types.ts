// Input types of the report writers. The caller (the demo, `kdep transfer suite`) computes
// every number; the report only formats and draws them. Presentation sits above the
// pipelines: it may import their result types, never the other way round.

export type {
  Comparison,
  DemoReport,
  MethodResult,
  SpreadKind,
} from "../pipelines/demo/result.js";

/** The kind of transfer a suite row measures. */
export type SuiteTask = "classification" | "detection" | "segmentation";

/**
 * One (student, dataset) cell of `kdep transfer suite`: the metric of each run (top-1 % for
 * classification). A row of another task names its metric; its column is then
 * "<dataset> <metric>" (e.g. "voc VOC07 AP50"), kept apart from same-named datasets of other
 * tasks and out of the mean of datasets.
 */
export interface SuiteRow {
  student: string;
  dataset: string;
  runs: number[];
  /** Default "classification". */
  task?: SuiteTask;
  /** What `runs` measure, e.g. "VOC07 AP50", "COCO AP", "mIoU"; default the table's metric. */
  metric?: string;
}
