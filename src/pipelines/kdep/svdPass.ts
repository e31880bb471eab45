// `kdep svd` (docs/method.md#svd-alignment): one pass of the frozen teacher over the (10%) training
// set with the training augmentation, accumulating feature moments in float64, then the
// eigen-decomposition of the centred scatter. Resumable: the accumulators are checkpointed.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/datasets/dataset.js";
import { DataLoader } from "../../data/loader.js";
import type { TransformStep } from "../../data/transforms/pipeline.js";
import { atomicWriteFile } from "../../io/atomicWrite.js";
import { readNpy, writeNpy } from "../../io/npy.js";
import { readPth, writePth } from "../../io/pth.js";
import { fromPy, fromRaw, toPy, toRaw } from "../../io/tensors.js";
import type { Backbone } from "../../models/backbone.js";
import {
  cat,
  keep,
  noGrad,
  svd,
  type Tensor,
  tidy,
  withTightCpuCache,
  zeros,
} from "../../tensor/index.js";
import { toTensors } from "../common/batches.js";
import { pollSignals, StopSignal } from "../common/interrupt.js";
import { Progress } from "../common/runLog.js";
import { FeatureMoments, type SvdResult } from "./featureMoments.js";
import { freezeTeacher } from "./frozenTeacher.js";

/** The record `kdep svd` writes as `svd.json`: the teacher id, image count, seed and transform. */
export interface SvdManifest {
  format: "kdep-svd/1";
  /** Architecture and weights of the teacher these statistics belong to. */
  teacher: string;
  featureDim: number;
  count: number;
  seed: number;
  imageSize: number | null;
  transform: TransformStep[];
  exact: boolean;
  created: string;
}

export interface SvdInputs {
  /** ResNet or MobileNetV2, readied in place by freezeTeacher (BN folded into its convs,
   *  channels-last on the CPU): from here on an inference-only model. */
  teacher: Backbone;
  /** Identifies the teacher: architecture plus a hash of its weights. */
  teacherId: string;
  data: Dataset;
  transform: TransformStep[];
  out: string;
  batchSize?: number;
  workers?: number;
  seed?: number;
  /** Keep every feature and use torch.linalg.svd (for checking; O(N·d) memory). */
  exact?: boolean;
  /** Where the teacher runs ("cpu", "cuda:0"); the float64 moments stay on the CPU. */
  device?: string;
  /** Checkpoint the accumulators every this many batches. */
  checkpointEvery?: number;
  progress?: "auto" | "bar" | "lines" | "quiet";
  /** Test hook: stop (with a checkpoint) after this many batches, as Ctrl-C does. */
  stopAfterBatches?: number;
}

const STATE = "svd_state.pth";
export const SVD_FILES = {
  V: "V.npy",
  mean: "mean.npy",
  sigma: "singular_values.npy",
  manifest: "svd.json",
};

export async function runSvd(
  o: SvdInputs,
): Promise<{ result: SvdResult | null; manifest: SvdManifest; stopped: boolean }> {
  return withTightCpuCache(() => svdPass(o));
}

async function svdPass(
  o: SvdInputs,
): Promise<{ result: SvdResult | null; manifest: SvdManifest; stopped: boolean }> {
  const teacher = o.teacher;
  const device = o.device ?? "cpu";
  teacher.to(device);
  freezeTeacher(teacher); // inference only from here: BN folded, channels-last on the CPU
  const d = teacher.featureDim;
  const batchSize = o.batchSize ?? 256;
  const seed = o.seed ?? 0;
  mkdirSync(o.out, { recursive: true });
  const statePath = join(o.out, STATE);
  const moments = new FeatureMoments(d);
  const kept: Tensor[] = [];
  let start = 0;
  // What the saved accumulators depend on: resuming with anything else would mix passes.
  const identity = JSON.stringify({
    teacher: o.teacherId,
    images: o.data.length,
    batchSize,
    seed,
    transform: o.transform,
    exact: o.exact ?? false,
  });
  if (existsSync(statePath)) {
    const s = fromPy(readPth(statePath)) as Map<string, unknown>;
    if (s.get("identity") !== identity) {
      throw new Error(
        `${statePath} belongs to another SVD pass (saved ${String(s.get("identity"))}, now ${identity}): delete it to start over, or use another --out`,
      );
    }
    moments.restore(s.get("sum") as Tensor, s.get("scatter") as Tensor, Number(s.get("count")));
    start = Number(s.get("next_batch"));
    if (o.exact) kept.push(keep(s.get("features") as Tensor));
  }
  const loader = new DataLoader(o.data, {
    batchSize,
    transform: o.transform,
    shuffle: false,
    seed,
    numWorkers: o.workers ?? 2,
    labelDtype: "int64",
  });
  const total = loader.batchesPerEpoch;
  const progress = new Progress("svd", o.progress ?? "auto");
  const save = (next: number) => {
    const features = o.exact && kept.length ? tidy(() => cat(kept)) : undefined;
    writePth(
      statePath,
      toPy({
        sum: moments.sum,
        scatter: moments.scatter,
        count: moments.count,
        next_batch: next,
        identity,
        features,
      }),
    );
    features?.dispose();
  };
  let b = start;
  let stopped = false;
  // Ctrl-C: save the accumulators after this batch; running again continues from them.
  const stop = new StopSignal();
  const t0 = Date.now();
  progress.start({ epoch: 1, epochs: 1, step: b, steps: total, imgPerSec: 0, loss: 0 });
  try {
    for await (const batch of loader.epoch(0, undefined, start)) {
      tidy(() =>
        noGrad(() => {
          const { images } = toTensors(batch, device);
          const feat = teacher.forwardHead(teacher.forwardFeatures(images), { preLogits: true });
          const f = device === "cpu" ? feat : feat.to({ device: "cpu" });
          moments.add(f);
          if (o.exact) kept.push(keep(f.to("float64")));
        }),
      );
      b++;
      const ips = ((b - start) * batchSize) / Math.max(1e-3, (Date.now() - t0) / 1000);
      progress.update({ epoch: 1, epochs: 1, step: b, steps: total, imgPerSec: ips, loss: 0 });
      if (o.stopAfterBatches !== undefined && b - start >= o.stopAfterBatches)
        stop.request("stopAfterBatches");
      await pollSignals();
      if (stop.requested && b < total) {
        save(b);
        stopped = true;
        break;
      }
      if (o.checkpointEvery && b % o.checkpointEvery === 0 && b < total) save(b);
    }
  } finally {
    progress.stop();
    stop.dispose();
    await loader.close();
  }
  if (stopped) return { result: null, manifest: manifestOf(o, moments.count, seed), stopped };
  // The whole pass is in the accumulators now: keep them on disk until the results are, so
  // a kill during the eigendecomposition costs a rerun of it, not of the teacher pass.
  if (!o.exact && start < total) save(total);

  let result: SvdResult;
  if (o.exact) {
    result = tidy(() => {
      const X = cat(kept);
      const [n, dim] = X.shape;
      const mean = X.mean(0);
      // With fewer features than dimensions the thin SVD has only n right vectors; V must
      // stay d×d (the remaining columns span the null space, their σ is 0).
      const { S, Vh } = svd(X.sub(mean), n < dim);
      const sigma = n < dim ? cat([S, zeros([dim - n], { dtype: S.dtype })]) : S;
      return { V: Vh.t().contiguous(), mean, singularValues: sigma, count: n };
    });
  } else {
    result = moments.finalize();
  }
  const manifest = manifestOf(o, result.count, seed);
  writeNpy(join(o.out, SVD_FILES.V), toRaw(result.V.float()));
  writeNpy(join(o.out, SVD_FILES.mean), toRaw(result.mean.float()));
  writeNpy(join(o.out, SVD_FILES.sigma), toRaw(result.singularValues.float()));
  atomicWriteFile(
    join(o.out, SVD_FILES.manifest),
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
  );
  rmSync(statePath, { force: true });
  for (const t of kept) t.dispose();
  return { result, manifest, stopped: false };
}

function manifestOf(o: SvdInputs, count: number, seed: number): SvdManifest {
  const last = [...o.transform]
    .reverse()
    .find((s) => s.op === "randomResizedCrop" || s.op === "centerCrop");
  return {
    format: "kdep-svd/1",
    teacher: o.teacherId,
    featureDim: o.teacher.featureDim,
    count,
    seed,
    imageSize: last && "size" in last ? last.size : null,
    transform: o.transform,
    exact: o.exact ?? false,
    created: new Date().toISOString(),
  };
}

/**
 * Reads an SVD folder and checks it belongs to `teacherId` — the reference code silently
 * used another teacher's statistics; we refuse.
 */
export function loadSvd(
  dir: string,
  teacherId: string,
): { V: Tensor; mean: Tensor; singularValues: Tensor; manifest: SvdManifest } {
  const mpath = join(dir, SVD_FILES.manifest);
  if (!existsSync(mpath))
    throw new Error(`No ${SVD_FILES.manifest} in ${dir}: is it a folder written by \`kdep svd\`?`);
  const manifest = JSON.parse(readFileSync(mpath, "utf8")) as SvdManifest;
  if (manifest.teacher !== teacherId) {
    throw new Error(
      `The SVD in ${dir} was computed for teacher "${manifest.teacher}", but this run's teacher is "${teacherId}". Run \`kdep svd\` with this teacher.`,
    );
  }
  const V = fromRaw(readNpy(join(dir, SVD_FILES.V)));
  const mean = fromRaw(readNpy(join(dir, SVD_FILES.mean)));
  const singularValues = fromRaw(readNpy(join(dir, SVD_FILES.sigma)));
  const dim = manifest.featureDim;
  if (V.shape[0] !== dim || V.shape[1] !== dim || mean.numel !== dim) {
    throw new Error(
      `${dir}: V is [${V.shape}] and mean has ${mean.numel} entries; expected ${dim}×${dim} and ${dim}`,
    );
  }
  return { V, mean, singularValues, manifest };
}
