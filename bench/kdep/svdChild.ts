// Our SVD pass over random images in its own process, so its peak memory is its own.
import { createModel } from "../../src/models/registry.js";
import { FeatureMoments } from "../../src/pipelines/kdep/featureMoments.js";
import { freezeTeacher } from "../../src/pipelines/kdep/frozenTeacher.js";
import * as T from "../../src/tensor/index.js";
import { peakRssMiB } from "../util.js";

const [n, size] = [Number(process.argv[2]), Number(process.argv[3])];
// Readied as runSvd readies its teacher (BN folded, channels-last); KDEP_BENCH_UNFOLDED=1
// keeps the plain model (the comparison docs/target-cache.md reports).
const built = createModel("resnet50", { numClasses: 0, preReluFeature: true }).eval();
const teacher = process.env.KDEP_BENCH_UNFOLDED === "1" ? built : freezeTeacher(built);
const m = new FeatureMoments(2048);
const t0 = Date.now();
// Tight as kdep's own SVD pass (runSvd) runs it.
await T.withTightCpuCache(async () => {
  for (let i = 0; i < n; i += 64) {
    T.tidy(() =>
      T.noGrad(() => m.add(teacher.forward(T.randn([Math.min(64, n - i), 3, size, size])))),
    );
  }
  m.finalize();
});
console.log(
  JSON.stringify({
    seconds: (Date.now() - t0) / 1000,
    peak_mib: peakRssMiB(),
    // Minor page faults: what the allocator's caching saves, independent of machine load.
    minor_faults: process.resourceUsage().minorPageFault,
    cache: T.cpuCacheStats(),
  }),
);
