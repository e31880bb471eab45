// bench/kdep/memory: peak memory (VmHWM, each side in its own process) of the SVD pass and
// of a KDEP distillation (ResNet-50 teacher → ResNet-18, random inputs, the teacher run each
// step) against PyTorch doing the same work, with kdep's default CPU allocator (the caching
// one) and with the glibc tuning it replaced (KDEP_CPU_CACHE=0). Time rows go with them: on
// a shared machine they are rough.
//   node dist/bench/kdep/memory.js        SVD over 640 images at 112 px; 300 steps b16@112
//                                         (three 300-step runs: the longest bench here)
// Overrides: KDEP_BENCH_SVD_IMAGES (640), KDEP_BENCH_SVD_SIZE (112), KDEP_BENCH_MEM_STEPS
// (300), KDEP_BENCH_MEM_SPEC ("16@112": batch@size). A quick check:
//   KDEP_BENCH_SVD_IMAGES=128 KDEP_BENCH_MEM_STEPS=20 node dist/bench/kdep/memory.js
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as T from "../../src/tensor/index.js";
import { envNumber, printTable, type Row, runReference } from "../util.js";

const threads = T.getNumThreads();
const svdImages = envNumber("KDEP_BENCH_SVD_IMAGES", 640);
const svdSize = envNumber("KDEP_BENCH_SVD_SIZE", 112);
const steps = envNumber("KDEP_BENCH_MEM_STEPS", 300);
const [batch, size] = (process.env.KDEP_BENCH_MEM_SPEC ?? "16@112").split("@").map(Number);

type Figures = { seconds: number; peak_mib: number; minor_faults?: number };
const child = (name: string, args: string[], env: Record<string, string> = {}) =>
  JSON.parse(
    execFileSync(process.execPath, [fileURLToPath(new URL(name, import.meta.url)), ...args], {
      encoding: "utf8",
      env: { ...process.env, ...env },
    }).trim(),
  ) as Figures;
const GLIBC = { KDEP_CPU_CACHE: "0" };

const rows: Row[] = [];
const add = (what: string, ours: Figures, ref: Figures, alloc: string) => {
  rows.push({
    name: `${what}: peak memory (${alloc})`,
    unit: "MiB",
    ours: ours.peak_mib,
    torch: ref.peak_mib,
    // The target is the default allocator's; the glibc rows show what it replaced.
    target: alloc === "glibc tuning" ? undefined : 1,
  });
  rows.push({
    name: `${what}: time (${alloc})`,
    unit: "s",
    ours: ours.seconds,
    torch: ref.seconds,
  });
};

const svdArgs = [String(svdImages), String(svdSize)];
const svdRef = runReference("kdep.py", [String(threads), "svd", ...svdArgs]) as Figures;
const svdWhat = `SVD pass, ${svdImages} images at ${svdSize} px`;
add(svdWhat, child("./svdChild.js", svdArgs), svdRef, "caching allocator");
add(svdWhat, child("./svdChild.js", svdArgs, GLIBC), svdRef, "glibc tuning");

const stepArgs = [String(batch), String(size), String(steps)];
const stepRef = runReference("kdep.py", [String(threads), "step", ...stepArgs]) as Figures;
const stepWhat = `${steps} distillation steps b${batch}@${size}`;
add(stepWhat, child("./stepsChild.js", ["teacher", ...stepArgs]), stepRef, "caching allocator");
add(stepWhat, child("./stepsChild.js", ["teacher", ...stepArgs], GLIBC), stepRef, "glibc tuning");

printTable(`bench/kdep/memory: peak process memory (VmHWM), ${threads} threads`, rows);
