#!/usr/bin/env node
// kdep command line: one file per command under ./commands/, each a schema and a handler
// (see ./options.ts), put together in ./program.ts. With `--nproc-per-node N` this process
// only launches N data-parallel ranks of the same command (src/distributed/launch.ts).
import { launchLocal, takeNprocFlag, watchLauncher } from "../distributed/launch.js";
import { runCommandLine } from "./program.js";

async function main(argv: string[]): Promise<number> {
  let launch: ReturnType<typeof takeNprocFlag>;
  try {
    launch = takeNprocFlag(argv);
  } catch (e) {
    process.stderr.write(`kdep: ${(e as Error).message}\n`);
    return 1;
  }
  if (!launch) {
    watchLauncher();
    return runCommandLine(argv);
  }
  try {
    return await launchLocal(process.argv[1], launch.rest, launch.n);
  } catch (e) {
    process.stderr.write(`kdep: ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
