#!/usr/bin/env node
/** The `cloudce` command. */
import { run } from "./run.js";

const code = await run(process.argv.slice(2));
// Interrupted: what the command did is printed and journaled; a request still hanging (a cloud
// login that never answers) must not hold the process until its timeout.
if (code === 130 || code === 143) process.exit(code);
process.exitCode = code;
