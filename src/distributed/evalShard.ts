// Evaluation split over the data-parallel ranks: rank r of N evaluates samples r, r+N, r+2N, …
// (no padding, so no sample is counted twice when N does not divide the set), every rank with
// rank 0's model, and the per-rank tallies are summed (or gathered) into the numbers one
// process evaluating the whole set reports.
import type { Module } from "../nn/module.js";
import type { DistGroup } from "./group.js";

/** The positions of `n` samples this rank evaluates; all of them without a group. */
export function shardIndices(n: number, group?: DistGroup): Int32Array {
  const world = group?.worldSize ?? 1;
  const rank = group?.rank ?? 0;
  const mine = new Int32Array(Math.max(0, Math.ceil((n - rank) / world)));
  for (let i = 0; i < mine.length; i++) mine[i] = rank + i * world;
  return mine;
}

/**
 * Rank 0's buffers (BN running statistics) into every rank's modules before an evaluation:
 * without SyncBN each rank's statistics are its own, and every shard must be evaluated by the
 * model rank 0 saves and reports. Training is unaffected (train-mode BN uses batch statistics).
 */
export function syncBuffers(group: DistGroup, modules: Module[]): void {
  const buffers = modules.flatMap((m) => m.buffers());
  if (buffers.length > 0) group.broadcast(buffers, 0);
}

/** A named file's bytes, as sent from the rank that made it to the one that writes it. */
export interface NamedBytes {
  name: string;
  data: Uint8Array;
}

/** Named byte strings as one: per entry, the name's and the data's lengths (u32 LE), then both. */
export function packNamed(entries: NamedBytes[]): Uint8Array {
  const enc = new TextEncoder();
  const names = entries.map((e) => enc.encode(e.name));
  const size = entries.reduce((s, e, i) => s + 8 + names[i].length + e.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const [i, e] of entries.entries()) {
    view.setUint32(o, names[i].length, true);
    view.setUint32(o + 4, e.data.length, true);
    out.set(names[i], o + 8);
    out.set(e.data, o + 8 + names[i].length);
    o += 8 + names[i].length + e.data.length;
  }
  return out;
}

export function unpackNamed(packed: Uint8Array): NamedBytes[] {
  const dec = new TextDecoder();
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const out: NamedBytes[] = [];
  let o = 0;
  while (o < packed.length) {
    const nameLen = view.getUint32(o, true);
    const dataLen = view.getUint32(o + 4, true);
    const name = dec.decode(packed.subarray(o + 8, o + 8 + nameLen));
    out.push({ name, data: packed.slice(o + 8 + nameLen, o + 8 + nameLen + dataLen) });
    o += 8 + nameLen + dataLen;
  }
  return out;
}

/** Every rank's entries on every rank, rank 0's first (the caller orders them if it must). */
export function gatherNamed(group: DistGroup, entries: NamedBytes[]): NamedBytes[] {
  return group.allGatherBytes(packNamed(entries)).flatMap(unpackNamed);
}
