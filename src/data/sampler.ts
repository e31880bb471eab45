// Which dataset indices an epoch visits, in which order: torch's RandomSampler /
// SequentialSampler, and DistributedSampler's padding and striding — with our own
// seeded permutation (torch's randperm stream cannot be reproduced outside torch).
import { Rng, STREAM_SHUFFLE } from "./rng.js";

export interface SamplerOptions {
  shuffle: boolean;
  seed: number;
  /** torch.utils.data.DistributedSampler semantics when set. */
  distributed?: { rank: number; worldSize: number; dropLast?: boolean };
}

export function epochIndices(n: number, epoch: number, o: SamplerOptions): Int32Array {
  let order: Int32Array;
  if (o.shuffle) order = new Rng(o.seed, epoch, STREAM_SHUFFLE).permutation(n);
  else order = Int32Array.from({ length: n }, (_, i) => i);
  const d = o.distributed;
  if (!d) return order;
  const { rank, worldSize } = d;
  if (
    !Number.isInteger(worldSize) ||
    worldSize < 1 ||
    !Number.isInteger(rank) ||
    rank < 0 ||
    rank >= worldSize
  ) {
    throw new RangeError(
      `Expected 0 <= rank < worldSize, got rank ${rank}, worldSize ${worldSize}`,
    );
  }
  // Every rank sees the same number of samples: pad by repeating the start of the
  // permutation (or drop the tail with dropLast), then take every worldSize-th index.
  const perRank =
    d.dropLast && n % worldSize !== 0
      ? Math.ceil((n - worldSize) / worldSize)
      : Math.ceil(n / worldSize);
  const total = perRank * worldSize;
  const padded = new Int32Array(total);
  for (let i = 0; i < total; i++) padded[i] = order[i % n];
  const mine = new Int32Array(perRank);
  for (let i = 0; i < perRank; i++) mine[i] = padded[rank + i * worldSize];
  return mine;
}

/** Splits an epoch's indices into batches. */
export function toBatches(indices: Int32Array, batchSize: number, dropLast: boolean): Int32Array[] {
  const out: Int32Array[] = [];
  for (let s = 0; s < indices.length; s += batchSize) {
    const b = indices.subarray(s, Math.min(s + batchSize, indices.length));
    if (b.length < batchSize && dropLast) break;
    out.push(b.slice());
  }
  return out;
}
