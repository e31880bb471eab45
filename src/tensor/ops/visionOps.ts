// torchvision's operators (nms, roi_align, ...) are not ATen's: they live in torchvision's
// compiled operator library, which registers them with libtorch's dispatcher when it is
// loaded into the process (what torch.ops.load_library does). Loaded once, on first use;
// after that they are called by schema name like any other operator, CPU kernels and
// autograd included.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { native, type OpArg, type OpResult } from "../../native/binding.js";
import { type Tensor, wrap } from "../tensor.js";

const SYSTEM_LIB_DIRS = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"];
const DIST_DIRS = ["/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages"];

/** Path of the libtorch_cpu this process runs on, from the loader's map of the process. */
function loadedLibtorch(): string | null {
  try {
    const maps = readFileSync("/proc/self/maps", "utf8");
    const m = /\s(\/\S*libtorch_cpu\.so[^\s]*)/.exec(maps);
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

/** torchvision's `_C*.so` in Debian's python3-torchvision, or null. */
function debianOpsLibrary(distDirs: readonly string[]): string | null {
  for (const base of distDirs) {
    const dir = join(base, "torchvision");
    if (!existsSync(dir)) continue;
    const lib = readdirSync(dir).find((f) => f.startsWith("_C") && f.endsWith(".so"));
    if (lib) return join(dir, lib);
  }
  return null;
}

/**
 * The operator library to load: KDEP_TORCHVISION_OPS when set; otherwise Debian's, but only
 * when this process runs on Debian's libtorch (a torchvision built for another libtorch
 * would not link against ours). Throws a message saying what to install or set.
 */
export function findVisionOpsLibrary(
  env: NodeJS.ProcessEnv = process.env,
  distDirs: readonly string[] = DIST_DIRS,
): string {
  const given = env.KDEP_TORCHVISION_OPS;
  if (given) {
    if (!existsSync(given)) {
      throw new Error(
        `KDEP_TORCHVISION_OPS=${given}: no such file (expected torchvision's _C library)`,
      );
    }
    return given;
  }
  const libtorch = loadedLibtorch();
  const systemTorch = libtorch === null || SYSTEM_LIB_DIRS.includes(dirname(libtorch));
  const debian = systemTorch ? debianOpsLibrary(distDirs) : null;
  if (debian) return debian;
  throw new Error(
    systemTorch
      ? "torchvision's operators (roi_align, nms) are needed for detection: install Debian's " +
          "python3-torchvision (apt-get install python3-torchvision), or set " +
          "KDEP_TORCHVISION_OPS to the _C library of a torchvision built for this libtorch"
      : `torchvision's operators (roi_align, nms) are needed for detection: set ` +
          `KDEP_TORCHVISION_OPS to the _C library (torchvision/_C.so) of the torchvision ` +
          `that matches the libtorch in use (${libtorch})`,
  );
}

let loaded: string | null = null;

/** Loads torchvision's operator library once; returns its path. */
export function loadVisionOps(): string {
  if (loaded === null) {
    const path = findVisionOpsLibrary();
    native.loadLibrary(path);
    loaded = path;
  }
  return loaded;
}

const ids = new Map<string, number>();

/** Calls `torchvision::<name>` by schema name, loading the library on first use. */
export function callVision(name: string, ...args: OpArg[]): OpResult {
  let id = ids.get(name);
  if (id === undefined) {
    loadVisionOps();
    id = native.lookupOp(`torchvision::${name}`, "").id;
    ids.set(name, id);
  }
  return native.callOp(id, ...args);
}

/** Indices of the boxes ([N, 4], x1 y1 x2 y2) kept by NMS, by decreasing score (int64). */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  return wrap(callVision("nms", boxes.handle, scores.handle, iouThreshold));
}

export interface RoiAlignOptions {
  /** Output [height, width]. */
  outputSize: readonly [number, number];
  /** Scale from box coordinates to feature coordinates (1 / stride). */
  spatialScale?: number;
  /** Sampling points per bin side; ≤ 0 adapts to the bin size. */
  samplingRatio?: number;
  /** Pixel-centre alignment (ROIAlignV2). */
  aligned?: boolean;
}

/** RoIAlign of `rois` ([K, 5]: batch index, x1 y1 x2 y2) over `input` [N, C, H, W]. */
export function roiAlign(input: Tensor, rois: Tensor, o: RoiAlignOptions): Tensor {
  return wrap(
    callVision(
      "roi_align",
      input.handle,
      rois.handle,
      o.spatialScale ?? 1,
      o.outputSize[0],
      o.outputSize[1],
      o.samplingRatio ?? -1,
      o.aligned ?? false,
    ),
  );
}
