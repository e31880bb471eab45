// The words and tables of the demo report, shared by its Markdown and HTML forms.
import { fmtDuration, fmtNum, fmtPercent, spreadName } from "./stats.js";
import type { DemoReport, MethodResult } from "./types.js";

/** Index of the method with the highest downstream mean (first on ties); -1 if none. */
export function bestIndex(methods: MethodResult[]): number {
  let best = -1;
  methods.forEach((m, i) => {
    if (
      Number.isFinite(m.downstream.mean) &&
      (best < 0 || m.downstream.mean > methods[best].downstream.mean)
    )
      best = i;
  });
  return best;
}

function list(xs: string[], max = 6): string {
  return xs.length <= max
    ? xs.join(", ")
    : `${xs.slice(0, max).join(", ")}, … (${xs.length} in all)`;
}

/** One plain-language paragraph: what KDEP is and what this demo did. */
export function explanation(r: DemoReport): string {
  const s = r.setup;
  const t = s.teacher;
  return [
    "Knowledge Distillation as Efficient Pre-training (KDEP, He et al., CVPR 2022) pre-trains a new network without labels:",
    "instead of learning to classify a large dataset, the student learns to reproduce the penultimate features of a teacher that is already trained,",
    "and it does so on only a fraction of the data.",
    `This demo plays the whole story out on ${s.dataset}, split by classes.`,
    `The ${s.upstreamClasses.length} upstream classes (${list(s.upstreamClasses)}; ${s.upstreamImages} images) stand in for ImageNet:`,
    `a ${t.arch} teacher (width ${t.width}) trained on them${t.cached ? " (loaded from cache for this run)" : ""} reaches ${fmtNum(t.accuracy)}% top-1.`,
    `On a ${fmtPercent(s.subsetFraction)} subset (${s.subsetImages} images) its features are reduced by SVD to the student's width,`,
    `and a randomly initialised ${s.student.arch} student (width ${s.student.width}) is distilled to match them.`,
    `The ${s.downstreamClasses.length} downstream classes (${list(s.downstreamClasses)}) were never seen upstream and stand in for a new task with few labels:`,
    `every pre-trained student, and each baseline below, is fine-tuned on only ${s.downstreamTrainPerClass} labelled images per class`,
    `and tested on ${s.downstreamTestImages} images, once per seed (${s.seeds.join(", ")}).`,
  ].join(" ");
}

/** Rows of the setup table: [setting, value]. */
export function setupRows(r: DemoReport): [string, string][] {
  const s = r.setup;
  const t = s.teacher;
  return [
    ["Dataset", s.dataset],
    ["Upstream classes", `${s.upstreamClasses.length}: ${s.upstreamClasses.join(", ")}`],
    ["Downstream classes", `${s.downstreamClasses.length}: ${s.downstreamClasses.join(", ")}`],
    ["Upstream images", String(s.upstreamImages)],
    ["Distillation subset", `${s.subsetImages} images (${fmtPercent(s.subsetFraction)})`],
    ["Downstream training", `${s.downstreamTrainPerClass} images per class`],
    ["Downstream test images", String(s.downstreamTestImages)],
    ["Image size", `${s.imageSize} × ${s.imageSize} px`],
    [
      "Teacher",
      `${t.arch}, width ${t.width}: ${fmtNum(t.accuracy)}% top-1 upstream, ${fmtDuration(t.seconds)}${t.cached ? " (cached)" : ""}`,
    ],
    ["Student", `${s.student.arch}, width ${s.student.width}`],
    ["Seeds", s.seeds.join(", ")],
    ["Spread (±)", spreadName(s.spreadKind)],
    [
      "Epochs",
      Object.entries(s.epochs)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ],
    ["Mode", r.mode],
    [
      "Machine",
      `${r.machine.cores} cores, ${r.machine.threads} threads, libtorch ${r.machine.libtorch}, Node ${r.machine.node}`,
    ],
    ["Total time", fmtDuration(r.totalSeconds)],
  ];
}

/** Per-seed column names: "seed 0", "seed 1", ... ("run k" past the listed seeds). */
export function seedHeaders(r: DemoReport): string[] {
  const n = Math.max(0, ...r.methods.map((m) => m.downstream.runs.length));
  return Array.from({ length: n }, (_, i) =>
    i < r.setup.seeds.length ? `seed ${r.setup.seeds[i]}` : `run ${i + 1}`,
  );
}

/** Figure-1-style results: method · data · time · mean ± spread · per-seed values. */
export function resultsTable(r: DemoReport): { headers: string[]; rows: string[][] } {
  const seeds = seedHeaders(r);
  const pm = r.setup.spreadKind === "std" ? "± std" : "± half-range";
  const headers = ["Pre-training", "Data", "Pre-training time", `Top-1 % (mean ${pm})`, ...seeds];
  const rows = r.methods.map((m) => [
    m.label,
    m.data,
    m.pretrainSeconds > 0 ? fmtDuration(m.pretrainSeconds) : "—",
    `${fmtNum(m.downstream.mean)} ± ${fmtNum(m.downstream.spread)}`,
    ...seeds.map((_, i) => (i < m.downstream.runs.length ? fmtNum(m.downstream.runs[i]) : "")),
  ]);
  return { headers, rows };
}

export const CHARTS = [
  { file: "accuracy", caption: "Downstream top-1 accuracy per pre-training method" },
  { file: "loss_curves", caption: "Pre-training loss per epoch" },
  { file: "time", caption: "Pre-training time per method" },
] as const;
