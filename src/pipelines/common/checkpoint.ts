// Training checkpoints: one .pth (written atomically) holding the pipeline's state, the
// optimiser in torch.optim's layout, the schedule, the RNG state and the loop position.
import { readPth, writePth } from "../../io/pth.js";
import { fromPy, type TensorTree, toPy } from "../../io/tensors.js";
import type { SGDState } from "../../optim/index.js";
import type { Tensor } from "../../tensor/index.js";

export type CheckpointValue = TensorTree;

export interface TrainCheckpoint {
  state: Record<string, CheckpointValue>;
  optimizer: SGDState;
  schedule: { last_epoch: number };
  rng: Tensor;
  loop: { epoch: number; step: number; globalStep: number; seconds: number };
  history: Array<{ epoch: number } & Record<string, number>>;
}

export function saveCheckpointFile(path: string, ck: TrainCheckpoint): void {
  writePth(path, toPy(ck as unknown as TensorTree));
}

type Tree = Map<string | number, TensorTree>;

function field(m: TensorTree, key: string, where: string): TensorTree {
  if (!(m instanceof Map) || !m.has(key)) throw new Error(`${where}: missing "${key}"`);
  return m.get(key);
}

function toRecord(m: TensorTree): Record<string, TensorTree> {
  if (!(m instanceof Map)) throw new Error("Expected a dict in the checkpoint");
  return Object.fromEntries([...m].map(([k, v]) => [String(k), v]));
}

export function loadCheckpointFile(path: string): TrainCheckpoint {
  const root = fromPy(readPth(path));
  const where = `checkpoint ${path}`;
  const opt = field(root, "optimizer", where) as Tree;
  const state = new Map<number, { momentum_buffer: Tensor }>();
  for (const [k, v] of field(opt, "state", where) as Tree) {
    state.set(Number(k), { momentum_buffer: field(v, "momentum_buffer", where) as Tensor });
  }
  const groups = (field(opt, "param_groups", where) as TensorTree[]).map((g) => toRecord(g));
  return {
    state: toRecord(field(root, "state", where)),
    optimizer: { state, param_groups: groups as unknown as SGDState["param_groups"] },
    schedule: toRecord(field(root, "schedule", where)) as { last_epoch: number },
    rng: field(root, "rng", where) as Tensor,
    loop: toRecord(field(root, "loop", where)) as TrainCheckpoint["loop"],
    history: (field(root, "history", where) as TensorTree[]).map(
      (h) => toRecord(h) as { epoch: number } & Record<string, number>,
    ),
  };
}
