// The words and tables of the demo report, shared by its Markdown and HTML forms.
import { fmtDuration, fmtNum, fmtPercent, spreadName } from "./stats.js";
import type { Comparison, DemoReport, MethodResult } from "./types.js";

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
    ...(r.methods.some((m) => m.probe)
      ? [
          "Each is also measured by a linear probe: a new head trained on the frozen backbone with the same labelled images,",
          "the direct measure of what pre-training put into the features.",
        ]
      : []),
    ...(r.dense?.length
      ? [
          `The same students are also fine-tuned on dense tasks built from images of the downstream classes pasted on larger canvases: ${r.dense.map((d) => `${d.task} (${d.metric}${d.also ? ` and ${d.also.metric}` : ""}, seeds ${(d.seeds ?? s.seeds).join(", ")})`).join(" and ")}, each scored with its own metric.`,
        ]
      : []),
    ...(s.test
      ? [
          `Every seed gives every method the same labelled images and training order, so KDEP is compared with each baseline seed by seed (${s.test.name});`,
          `a finding says "beats" only when that test rejects "no difference" at the ${fmtPercent(1 - s.test.level)} level with KDEP ahead.`,
          `Each comparison is tested on its own, without correction for the ${r.comparisons?.length ?? 0} made, so each true tie still has a ${fmtPercent(1 - s.test.level)} chance of reading as a difference.`,
        ]
      : []),
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
    ...(s.split ? [["Split (class indices)", s.split] as [string, string]] : []),
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
    ...(s.test
      ? [
          ["Verdict test", `${s.test.name}, ${fmtPercent(s.test.level)} confidence`] as [
            string,
            string,
          ],
        ]
      : []),
    ...(s.upstreamMeasure ? [["Upstream top-1", s.upstreamMeasure] as [string, string]] : []),
    ...(r.dense ?? []).map(
      (d) =>
        [
          `${taskTitle(d.task)}`,
          `seeds ${(d.seeds ?? s.seeds).join(", ")}${d.seconds !== undefined ? `, ${fmtDuration(d.seconds)} for every method and seed` : ""}`,
        ] as [string, string],
    ),
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

const meanSpread = (x: { mean: number; spread: number } | undefined) =>
  x ? `${fmtNum(x.mean)} ± ${fmtNum(x.spread)}` : "—";

/**
 * Figure-1-style results: method · data · time · [upstream top-1] · fine-tuned mean ±
 * spread · [linear-probe mean ± spread] · fine-tuned per seed. Bracketed columns appear when
 * any method has them.
 */
export function resultsTable(r: DemoReport): {
  headers: string[];
  rows: string[][];
  /** Row of the best fine-tuned mean (-1 if none). */
  best: number;
} {
  const seeds = seedHeaders(r);
  const pm = r.setup.spreadKind === "std" ? "± std" : "± half-range";
  const hasUp = r.methods.some((m) => m.upstream !== undefined);
  const hasProbe = r.methods.some((m) => m.probe);
  const headers = [
    "Pre-training",
    "Data",
    "Pre-training time",
    ...(hasUp ? ["Upstream top-1 %"] : []),
    hasProbe ? `Fine-tuned top-1 % (mean ${pm})` : `Top-1 % (mean ${pm})`,
    ...(hasProbe ? [`Linear probe top-1 % (mean ${pm})`] : []),
    ...seeds.map((h) => (hasProbe ? `FT ${h}` : h)),
  ];
  const rows = r.methods.map((m) => [
    m.label,
    m.data,
    m.pretrainSeconds > 0 ? fmtDuration(m.pretrainSeconds) : "—",
    ...(hasUp ? [m.upstream !== undefined ? fmtNum(m.upstream) : "—"] : []),
    meanSpread(m.downstream),
    ...(hasProbe ? [meanSpread(m.probe)] : []),
    ...seeds.map((_, i) => (i < m.downstream.runs.length ? fmtNum(m.downstream.runs[i]) : "")),
  ]);
  if (hasUp) {
    const t = r.setup.teacher;
    rows.unshift([
      `Teacher (${t.arch})`,
      "100%",
      fmtDuration(t.seconds),
      fmtNum(t.accuracy),
      "—",
      ...(hasProbe ? ["—"] : []),
      ...seeds.map(() => ""),
    ]);
  }
  const best = bestIndex(r.methods);
  return { headers, rows, best: best < 0 ? -1 : best + (hasUp ? 1 : 0) };
}

/** Linear-probe top-1 per seed, one row per method (empty when no probe was run). */
export function probeSeedTable(r: DemoReport): { headers: string[]; rows: string[][] } {
  const seeds = seedHeaders(r);
  const rows = r.methods
    .filter((m) => m.probe)
    .map((m) => [
      m.label,
      m.data,
      ...seeds.map((_, i) => (i < (m.probe?.runs.length ?? 0) ? fmtNum(m.probe!.runs[i]) : "")),
    ]);
  return { headers: ["Pre-training", "Data", ...seeds.map((h) => `LP ${h}`)], rows };
}

const taskTitle = (task: string) => `${task[0].toUpperCase()}${task.slice(1)}`;

/**
 * One table per dense task (segmentation, detection): method · data · metric mean ± spread ·
 * [second metric mean ± spread] · the metric per seed; with the task's one-line description.
 */
export function denseTables(
  r: DemoReport,
): { title: string; description?: string; headers: string[]; rows: string[][] }[] {
  const pm = r.setup.spreadKind === "std" ? "± std" : "± half-range";
  return (r.dense ?? []).map((d) => {
    const seeds = d.seeds ?? r.setup.seeds;
    const n = Math.max(0, ...Object.values(d.byMethod).map((x) => x.runs.length));
    const seedCols = Array.from({ length: n }, (_, i) =>
      i < seeds.length ? `seed ${seeds[i]}` : `run ${i + 1}`,
    );
    const also = d.also;
    return {
      title: `${taskTitle(d.task)} (${d.metric} %)`,
      description: d.description,
      headers: [
        "Pre-training",
        "Data",
        `${d.metric} % (mean ${pm})`,
        ...(also ? [`${also.metric} % (mean ${pm})`] : []),
        ...seedCols.map((h) => `${d.metric} ${h}`),
      ],
      rows: r.methods
        .filter((m) => d.byMethod[m.id])
        .map((m) => {
          const x = d.byMethod[m.id];
          return [
            m.label,
            m.data,
            meanSpread(x),
            ...(also ? [meanSpread(also.byMethod[m.id])] : []),
            ...seedCols.map((_, i) => (i < x.runs.length ? fmtNum(x.runs[i]) : "")),
          ];
        }),
    };
  });
}

const pText = (p: number) => (p < 0.001 ? "< 0.001" : p.toFixed(3));

/** The paired tests behind the findings: KDEP − baseline per protocol. */
export function testsTable(r: DemoReport): { headers: string[]; rows: string[][] } {
  const level = r.setup.test?.level ?? 0.95;
  const headers = [
    "KDEP vs",
    "Protocol",
    "Mean difference (points)",
    `${fmtPercent(level)} CI`,
    "t (df)",
    "p (two-sided)",
  ];
  const label = (c: Comparison) => {
    const m = r.methods.find((x) => x.id === c.baseline);
    return m ? `${m.label}${m.data !== "—" ? ` (${m.data})` : ""}` : c.baseline;
  };
  const protocol = (c: Comparison) => (c.metric ? `${c.protocol} (${c.metric})` : c.protocol);
  const rows = (r.comparisons ?? []).map((c) => {
    const t = c.test;
    if (!t) return [label(c), protocol(c), "—", "—", "—", "—"];
    return [
      label(c),
      protocol(c),
      fmtNum(t.meanDiff),
      `[${fmtNum(t.ci[0])}, ${fmtNum(t.ci[1])}]`,
      `${Number.isFinite(t.t) ? t.t.toFixed(2) : t.t > 0 ? "∞" : "−∞"} (${t.df})`,
      pText(t.p),
    ];
  });
  return { headers, rows };
}

export const CHARTS = [
  { file: "accuracy", caption: "Downstream top-1 accuracy per pre-training method" },
  { file: "loss_curves", caption: "Pre-training loss per epoch" },
  { file: "time", caption: "Pre-training time per method" },
] as const;
