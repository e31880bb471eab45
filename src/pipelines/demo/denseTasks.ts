// The demo's offline dense tasks: canvases with the held-out classes' Fashion-MNIST images
// pasted on them, with masks (segmentation) and boxes (detection). Written once per run
// folder and reused while their settings are unchanged: each folder holds the settings it
// was written with (task.json), and appears under its name only once complete.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSyntheticDetection } from "../../data/datasets/detSynthetic.js";
import { writePastedTask } from "../../data/segSynth.js";
import type { DemoSettings } from "./settings.js";
import { classNames, type DemoSplit } from "./split.js";

export interface DenseTasks {
  /** A `folder` segmentation dataset (images/, masks/, classes.txt, train/val lists). */
  seg: string;
  /** A `folder` detection dataset (annotations/instances_{train,val}.json). */
  det: string;
}

const TASK_FILE = "task.json";

/** `dir` written by `write(tmp)` unless it already holds a task with the same `key`. */
async function cached(
  dir: string,
  key: unknown,
  write: (tmp: string) => Promise<void>,
): Promise<string> {
  const text = JSON.stringify(key);
  const record = join(dir, TASK_FILE);
  if (existsSync(record) && readFileSync(record, "utf8") === text) return dir;
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await write(tmp);
    writeFileSync(join(tmp, TASK_FILE), text);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/** Both tasks from the downstream classes, under `runs` (seg-task/, det-task/). */
export async function denseTasks(
  s: DemoSettings,
  split: DemoSplit,
  fmnistDir: string,
  runs: string,
): Promise<DenseTasks> {
  mkdirSync(runs, { recursive: true });
  const { seg, det } = s.dense;
  const segKey = {
    classes: classNames(split.downstream),
    train: seg.train,
    val: seg.val,
    size: seg.size,
    objects: seg.objects,
    scale: seg.scale,
    seed: 0,
  };
  const segDir = await cached(join(runs, "seg-task"), segKey, async (tmp) => {
    await writePastedTask({ fmnistDir, out: tmp, layout: "folder", ...segKey });
  });
  const detKey = {
    classes: split.downstream,
    train: det.train,
    val: det.val,
    minSide: det.minSide,
    maxSide: det.maxSide,
    maxObjects: det.maxObjects,
    seed: 0,
  };
  const detDir = await cached(join(runs, "det-task"), detKey, async (tmp) => {
    await writeSyntheticDetection({ fmnistDir, outDir: tmp, ...detKey });
  });
  return { seg: segDir, det: detDir };
}
