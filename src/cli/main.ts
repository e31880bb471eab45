#!/usr/bin/env node
// kdep command line: one file per command under ./commands/, each a schema and a handler
// (see ./options.ts), put together in ./program.ts.
import { runCommandLine } from "./program.js";

process.exitCode = await runCommandLine(process.argv.slice(2));
