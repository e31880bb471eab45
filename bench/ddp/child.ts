// One process of bench/ddp: the KDEP step (ResNet-50 teacher → ResNet-18 student, SVD + PTS
// target, MSE, SGD) on its share of a global batch, data-parallel when the environment
// names a job: gradients reduced during backward (OverlapReducer), or after it with
// KDEP_DDP_OVERLAP=0 (GradReducer, which also times its all-reduces). Rank 0 prints one JSON
// line: global images/s, the all-reduce's milliseconds (after-backward mode) and bytes per
// step, and one plain all-reduce of those bytes.
//   node dist/bench/ddp/child.js <globalBatch> <size> <iters>
import { readDistEnv } from "../../src/distributed/env.js";
import { DistGroup } from "../../src/distributed/group.js";
import { GradReducer, OverlapReducer } from "../../src/distributed/reducer.js";
import { createModel } from "../../src/models/registry.js";
import { SGD } from "../../src/optim/index.js";
import { SvdAlignment } from "../../src/pipelines/kdep/alignment.js";
import { Distiller } from "../../src/pipelines/kdep/distiller.js";
import * as T from "../../src/tensor/index.js";
import { timeit } from "../util.js";

const [batch, size, iters] = process.argv.slice(2, 5).map(Number);
const env = readDistEnv(process.env);
const group = env ? DistGroup.init(env) : undefined;
const world = group?.worldSize ?? 1;
T.manualSeed(0);
const teacher = createModel("resnet50", { numClasses: 0 });
const student = createModel("resnet18", { numClasses: 0 });
const V = T.randn([2048, 2048]);
const d = new Distiller(
  teacher,
  student,
  new SvdAlignment({ V, mean: T.zeros([2048]) }, 512, 3, { temperature: 0.1, power: 3 }),
);
d.train();
const opt = new SGD(d.parameters(), { lr: 0.3, momentum: 0.9, weightDecay: 5e-4 });
let reduceMs: number[] = [];
let bytes = 0;
let overlap: OverlapReducer | undefined;
if (group) {
  const params = opt.paramGroups[0].params;
  group.broadcast(params);
  if (process.env.KDEP_DDP_OVERLAP === "0") {
    const reducer = new GradReducer(group, params);
    opt.beforeStep = () => {
      reducer.reduce();
      reduceMs.push(reducer.last.allReduceMs);
      bytes = reducer.last.bytes;
    };
  } else {
    overlap = new OverlapReducer(params);
  }
}
const x = T.randn([batch / world, 3, size, size]);
const y = T.zeros([batch / world], { dtype: "int64" });
const warm = () => T.tidy(() => d.step(x, y, opt));
warm();
reduceMs = [];
const sec = timeit(() => T.tidy(() => d.step(x, y, opt)), iters, 0);
reduceMs.sort((a, b) => a - b);
if (overlap) bytes = overlap.lastBytes;
// The transport alone: one all-reduce of the step's bytes as a single tensor.
let flatMs = 0;
if (group && bytes > 0) {
  const flat = T.zeros([bytes / 4]);
  flatMs = timeit(() => group.allReduce([flat]), 5, 1) * 1e3;
}
if (!group || group.isLead)
  console.log(
    JSON.stringify({
      ips: batch / sec,
      allReduceMs: reduceMs.length ? reduceMs[Math.floor(reduceMs.length / 2)] : 0,
      flatAllReduceMs: flatMs,
      bytes,
    }),
  );
