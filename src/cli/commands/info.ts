// `kdep info`: what this build runs on (libtorch, threads, CUDA devices).
import type { Command } from "commander";
import { native } from "../../native/binding.js";
import { cudaDeviceCount, getNumThreads } from "../../tensor/index.js";

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("show the libtorch build, threads and devices in use")
    .action(() => {
      const v = native.version();
      console.log(`intra-op threads: ${getNumThreads()}`);
      console.log(`CUDA devices: ${cudaDeviceCount()}`);
      console.log(v.parallel.trim());
    });
}
