#!/usr/bin/env node
// kdep command line: one sub-command per pipeline stage. Each command lives in
// ./commands/<name>.ts and registers itself here.
import { Command } from "commander";
import { registerConvert } from "./commands/convert.js";
import { registerDemo } from "./commands/demo.js";
import { registerInfo } from "./commands/info.js";
import { registerKdep } from "./commands/kdep.js";
import { registerSubset } from "./commands/subset.js";
import { registerTargets } from "./commands/targets.js";
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
registerTargets(program);
registerSubset(program);
registerTransfer(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`kdep: ${msg}\n`);
  if (process.env.KDEP_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
});
