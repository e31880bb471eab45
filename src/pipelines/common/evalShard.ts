// The part of a val set this data-parallel rank evaluates (src/distributed/evalShard.ts says
// how the ranks split it and combine their tallies).
import type { Dataset } from "../../data/datasets/dataset.js";
import { subsetByIndex } from "../../data/datasets/select.js";
import { shardIndices } from "../../distributed/evalShard.js";
import type { DistGroup } from "../../distributed/group.js";

/** This rank's samples of `data` (all of it without a group) and their positions in `data`. */
export function evalShardOf(data: Dataset, group?: DistGroup) {
  const positions = shardIndices(data.length, group);
  const shard = group ? subsetByIndex(data, positions, data.spec.name) : data;
  return { shard, positions };
}
