#!/usr/bin/env node
/** The `cloudce` command. */
import { run } from "./run.js";

process.exitCode = await run(process.argv.slice(2));
