#!/usr/bin/env node
// kdep command line: one file per command under ./commands/, each a schema and a handler
// (see ./options.ts), put together in ./program.ts. With `--nproc-per-node N` this process
// only launches N data-parallel ranks of the same command (src/distributed/launch.ts).
import { launchLocal, takeNprocFlag, watchLauncher } from "../distributed/launch.js";
import { runCommandLine } from "./program.js";

// A reader that goes away (`kdep --help | head`) must not crash kdep with an unhandled
// EPIPE; output to it is dropped and a running job carries on writing its files.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
  });
}

/** The commands that train data-parallel (they take the flags of ./distOptions.ts). */
const DATA_PARALLEL = ["distill", "transfer cls", "transfer seg", "transfer det", "transfer suite"];

async function main(argv: string[]): Promise<number> {
  let launch: ReturnType<typeof takeNprocFlag>;
  try {
    launch = takeNprocFlag(argv);
    const path = argv[0] === "transfer" ? `transfer ${argv[1]}` : argv[0];
    if (launch && !DATA_PARALLEL.includes(path))
      throw new Error(
        `--nproc-per-node: \`kdep ${path}\` does not train data-parallel (${DATA_PARALLEL.join(", ")} do)`,
      );
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
