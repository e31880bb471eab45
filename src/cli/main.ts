#!/usr/bin/env node
// kdep command line: one sub-command per pipeline stage. Each command lives in
// ./commands/<name>.ts and registers itself here.
import { Command } from "commander";
import { launchLocal, takeNprocFlag, watchLauncher } from "../distributed/launch.js";
import { registerConvert } from "./commands/convert.js";
import { registerDemo } from "./commands/demo.js";
import { registerInfo } from "./commands/info.js";
import { registerKdep } from "./commands/kdep.js";
import { registerSubset } from "./commands/subset.js";
import { registerTransfer } from "./commands/transfer.js";

const program = new Command();
program
  .name("kdep")
  .description("Knowledge Distillation as Efficient Pre-training (KDEP) on libtorch")
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(`error: ${s.replace(/^error: /, "")}`) });

registerConvert(program);
registerDemo(program);
registerInfo(program);
registerKdep(program);
registerSubset(program);
registerTransfer(program);

// `--nproc-per-node N`: this process only launches N ranks of the same command.
const launch = (() => {
  try {
    return takeNprocFlag(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`kdep: ${(e as Error).message}\n`);
    process.exit(1);
  }
})();
watchLauncher();
const run = launch
  ? launchLocal(process.argv[1], launch.rest, launch.n).then((code) => {
      process.exitCode = code;
    })
  : program.parseAsync(process.argv);
run.catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`kdep: ${msg}\n`);
  if (process.env.KDEP_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
});
