// The demo's teacher: a ResNet-50 trained supervised on all upstream data, cached in the
// user's cache folder under a hash of everything that determines it (settings and data), so
// later runs reuse it. The cache entry records its weights' hash and is verified on reuse.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import type { Backbone } from "../../models/backbone.js";
import { createModel } from "../../models/registry.js";
import { cacheDir, loadWeightsInto, sha256File } from "../../models/weights.js";
import { runSupervised } from "../supervised/supervised.js";
import { type DemoSettings, pretrainTransform, testTransform } from "./settings.js";

export interface TeacherInfo {
  model: Backbone;
  /** Architecture plus weights hash: what an SVD is tied to. */
  id: string;
  accuracy: number;
  seconds: number;
  cached: boolean;
  path: string;
}

// One teacher serves every demo seed: the seeds vary what is compared, not the teacher.
const TEACHER_SEED = 0;

interface Meta {
  sha256: string;
  accuracy: number;
  seconds: number;
}

function datasetDigest(ds: Dataset): string {
  const h = createHash("sha256");
  h.update(
    Buffer.from(ds.spec.labels.buffer, ds.spec.labels.byteOffset, ds.spec.labels.byteLength),
  );
  if (ds.spec.source.kind === "pixels") h.update(ds.spec.source.data);
  else h.update(ds.spec.source.paths.join("\n"));
  return h.digest("hex");
}

export async function demoTeacher(
  s: DemoSettings,
  upstream: Dataset,
  upstreamTest: Dataset,
  progress: "auto" | "bar" | "lines" | "quiet",
): Promise<TeacherInfo> {
  const key = createHash("sha256")
    .update(
      // v: bumped whenever how the teacher is trained changes (v2: the model is built after
      // the seed is set), so an older cache entry is not taken for this one.
      JSON.stringify({
        v: 2,
        seed: TEACHER_SEED,
        teacher: s.teacher,
        width: s.width,
        size: s.imageSize,
        classes: upstream.classes,
      }),
    )
    .update(datasetDigest(upstream))
    .digest("hex")
    .slice(0, 16);
  const dir = join(cacheDir(), "demo-teachers", key);
  const weights = join(dir, "teacher.pth");
  const metaPath = join(dir, "teacher.json");
  const build = () =>
    createModel(s.teacher.arch, { numClasses: upstream.classes.length, width: s.width });
  if (existsSync(weights) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as Meta;
    const digest = await sha256File(weights);
    if (digest === meta.sha256) {
      const model = build();
      loadWeightsInto(model, weights);
      return {
        model,
        id: `${s.teacher.arch}@${digest.slice(0, 16)}`,
        accuracy: meta.accuracy,
        seconds: meta.seconds,
        cached: true,
        path: weights,
      };
    }
    process.stderr.write(
      `demo: cached teacher ${weights} does not match its hash; training it again\n`,
    );
  }
  rmSync(join(dir, "run"), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = await runSupervised({
    createModel: build,
    train: upstream,
    trainTransform: pretrainTransform(s.imageSize),
    val: upstreamTest,
    valTransform: testTransform(s.imageSize),
    out: join(dir, "run"),
    epochs: s.teacher.epochs,
    batchSize: s.teacher.batchSize,
    lr: s.teacher.lr,
    schedule: { kind: "cosine", maxSteps: s.teacher.epochs },
    evalEvery: s.teacher.epochs,
    seed: TEACHER_SEED,
    workers: 0,
    progress,
  });
  copyFileSync(r.weightsPath, `${weights}.tmp`);
  const digest = await sha256File(`${weights}.tmp`);
  const meta: Meta = { sha256: digest, accuracy: r.valTop1 ?? 0, seconds: r.seconds };
  copyFileSync(`${weights}.tmp`, weights);
  rmSync(`${weights}.tmp`);
  atomicWriteFile(metaPath, Buffer.from(`${JSON.stringify(meta, null, 2)}\n`));
  return {
    model: r.model,
    id: `${s.teacher.arch}@${digest.slice(0, 16)}`,
    accuracy: meta.accuracy,
    seconds: meta.seconds,
    cached: false,
    path: weights,
  };
}
