// Gradient averaging for data-parallel training, as DDP's reducer does it: the parameters
// are split into buckets of about 25 MB (in reverse registration order, the order backward
// produces their gradients); each bucket's gradients are flattened into one buffer, summed
// over the ranks by one all-reduce and divided by the world size.
// - OverlapReducer (the default): the all-reduce of a bucket starts from gradient hooks as
//   soon as its last gradient is accumulated, so communication overlaps the rest of
//   backward; backward returns with averaged gradients (native/src/dist.cc).
// - GradReducer (KDEP_DDP_OVERLAP=0): the same buckets reduced after backward, from the
//   optimiser's beforeStep. libtorch's own c10d::Reducer cannot be compiled against
//   Debian's headers (reducer.hpp needs torch/csrc/distributed/autograd/, not shipped).
import { native } from "../native/binding.js";
import type { SGD } from "../optim/index.js";
import { cat, noGrad, type Tensor, tidy } from "../tensor/index.js";
import type { DistGroup } from "./group.js";

export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

export interface ReduceStats {
  /** Bytes all-reduced in the last reduction, and how long the all-reduces took. */
  bytes: number;
  allReduceMs: number;
  buckets: number;
}

/** Splits parameters into buckets of at most `capBytes` (a larger tensor is its own bucket). */
export function assignBuckets(params: Tensor[], capBytes: number): Tensor[][] {
  const buckets: Tensor[][] = [];
  let cur: Tensor[] = [];
  let size = 0;
  for (const p of [...params].reverse()) {
    const bytes = p.numel * 4;
    if (cur.length > 0 && (size + bytes > capBytes || p.dtype !== cur[0].dtype)) {
      buckets.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(p);
    size += bytes;
  }
  if (cur.length > 0) buckets.push(cur);
  return buckets;
}

export class GradReducer {
  readonly buckets: Tensor[][];
  last: ReduceStats = { bytes: 0, allReduceMs: 0, buckets: 0 };

  constructor(
    private readonly group: DistGroup,
    params: Tensor[],
    capBytes = DEFAULT_BUCKET_BYTES,
  ) {
    this.buckets = assignBuckets(
      params.filter((p) => p.requiresGrad),
      capBytes,
    );
  }

  /** Averages every present gradient over the ranks, in place. */
  reduce(): void {
    const stats: ReduceStats = { bytes: 0, allReduceMs: 0, buckets: 0 };
    const w = this.group.worldSize;
    tidy(() =>
      noGrad(() => {
        for (const bucket of this.buckets) {
          // Every rank runs the same graph, so the same gradients are present everywhere.
          const grads = bucket.map((p) => p.grad).filter((g): g is Tensor => g !== null);
          if (grads.length === 0) continue;
          const flat =
            grads.length === 1 ? grads[0].flatten().clone() : cat(grads.map((g) => g.flatten()));
          const t0 = performance.now();
          this.group.allReduce([flat]);
          stats.allReduceMs += performance.now() - t0;
          stats.bytes += flat.numel * 4;
          stats.buckets++;
          flat.div_(w);
          let off = 0;
          for (const g of grads) {
            g.copy_(flat.narrow(0, off, g.numel).view(...g.shape));
            off += g.numel;
          }
        }
      }),
    );
    this.last = stats;
  }
}

export class OverlapReducer {
  readonly #id: number;
  readonly buckets: number;

  constructor(params: Tensor[], capBytes = DEFAULT_BUCKET_BYTES) {
    const buckets = assignBuckets(
      params.filter((p) => p.requiresGrad),
      capBytes,
    );
    this.#id = native.distOverlapNew(buckets.map((b) => b.map((p) => p.handle)));
    this.buckets = buckets.length;
  }

  /** Bytes the last backward all-reduced. */
  get lastBytes(): number {
    return native.distOverlapBytes(this.#id);
  }
}

/**
 * Same starting weights everywhere (rank 0's parameters), then gradients averaged over the
 * ranks in every backward (or, with KDEP_DDP_OVERLAP=0, before every optimiser step).
 */
export function attachGradAveraging(group: DistGroup, optimizer: SGD): void {
  const params = optimizer.paramGroups.flatMap((g) => g.params);
  group.broadcast(params);
  if (process.env.KDEP_DDP_OVERLAP === "0") {
    const reducer = new GradReducer(group, params);
    optimizer.beforeStep = () => reducer.reduce();
  } else {
    new OverlapReducer(params);
  }
}
