// `kdep info`: what this build runs on (libtorch, threads, CUDA devices).
import { z } from "zod";
import { native } from "../../native/binding.js";
import { cudaDeviceCount, getNumThreads } from "../../tensor/index.js";
import { defineCommand } from "../options.js";

export const infoCommand = defineCommand({
  name: "info",
  description: "show the libtorch build, threads and devices in use",
  schema: z.object({}).strict(),
  run: () => {
    const v = native.version();
    console.log(`intra-op threads: ${getNumThreads()}`);
    console.log(`CUDA devices: ${cudaDeviceCount()}`);
    console.log(v.parallel.trim());
  },
});
