// The `kdep` program: every command registered from its spec, and the one error path — a
// single line `kdep <command>: <message>` on stderr and exit code 1, never a help dump.
import { Command, CommanderError } from "commander";
import { convertCommand } from "./commands/convert.js";
import { demoCommand } from "./commands/demo.js";
import { distillCommand } from "./commands/distill.js";
import { exportCommand } from "./commands/export.js";
import { infoCommand } from "./commands/info.js";
import { subsetCommand } from "./commands/subset.js";
import { svdCommand } from "./commands/svd.js";
import { targetsCommand } from "./commands/targets.js";
import { transferClsCommand } from "./commands/transferCls.js";
import { transferDetCommand, transferDetTaskCommand } from "./commands/transferDet.js";
import { transferSegCommand } from "./commands/transferSeg.js";
import { transferSegTaskCommand } from "./commands/transferSegTask.js";
import { transferSuiteCommand } from "./commands/transferSuite.js";
import { type CommandSpec, registerCommand, type Settings } from "./options.js";

export interface CliIo {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

const processIo: CliIo = {
  writeOut: (s) => process.stdout.write(s),
  writeErr: (s) => process.stderr.write(s),
};

/** Every command, by its path under `kdep`. */
export const COMMANDS: ReadonlyArray<[path: string, spec: CommandSpec<Settings>]> = [
  ["convert", convertCommand],
  ["demo", demoCommand],
  ["distill", distillCommand],
  ["export", exportCommand],
  ["info", infoCommand],
  ["subset", subsetCommand],
  ["svd", svdCommand],
  ["targets", targetsCommand],
  ["transfer cls", transferClsCommand],
  ["transfer det", transferDetCommand],
  ["transfer det-task", transferDetTaskCommand],
  ["transfer seg", transferSegCommand],
  ["transfer seg-task", transferSegTaskCommand],
  ["transfer suite", transferSuiteCommand],
] as unknown as ReadonlyArray<[string, CommandSpec<Settings>]>;

export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command();
  program
    .name("kdep")
    .description("Knowledge Distillation as Efficient Pre-training (KDEP) on libtorch")
    // Commander's own errors (unknown flag, missing argument) are thrown, not printed: they
    // reach the one error path of runCommandLine. Inherited by every command added below.
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr, outputError: () => {} });
  const transfer = new Command("transfer").description(
    "transfer a pre-trained backbone to downstream tasks",
  );
  for (const [path, spec] of COMMANDS) {
    if (path.startsWith("transfer ")) {
      if (!program.commands.includes(transfer)) {
        program.addCommand(transfer);
        transfer.copyInheritedSettings(program);
      }
      registerCommand(transfer, spec);
    } else registerCommand(program, spec);
  }
  return program;
}

/** "kdep transfer cls" for the command the arguments name, for error lines. */
function commandName(program: Command, argv: readonly string[]): string {
  const names = ["kdep"];
  let cmd: Command | undefined = program;
  for (const a of argv) {
    cmd = cmd?.commands.find((c) => c.name() === a);
    if (!cmd) break;
    names.push(a);
  }
  return names.join(" ");
}

/** Runs `kdep <argv>`; resolves to the exit code. */
export async function runCommandLine(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help ends here with exit code 0; a bare `kdep` or `kdep transfer` has printed its
      // help and ends with 1.
      if (e.exitCode === 0 || e.code === "commander.help") return e.exitCode;
    }
    const raw = e instanceof Error ? e.message : String(e);
    const msg = raw.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
    io.writeErr(`${commandName(program, argv)}: ${msg}\n`);
    if (process.env.KDEP_DEBUG && e instanceof Error) io.writeErr(`${e.stack}\n`);
    return 1;
  }
}
