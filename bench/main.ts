/**
 * `npm run bench`: cloudce's speed, measured, not asserted. Each workload
 * runs in its own process (clean peak RSS) and prints one JSON measurement;
 * this prints a table with baseline/ours ratios and writes all results to
 * bench-results/<time>.json so runs can be compared.
 */

import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Measurement } from "./measure.js";
import { formatResults } from "./report.js";
import { WORKLOADS } from "./workloads/index.js";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const selected = WORKLOADS.filter((w) => only.length === 0 || only.some((o) => w.id.includes(o)));
  const results: Measurement[] = [];
  for (const w of selected) {
    process.stderr.write(`bench: ${w.id}…\n`);
    const { stdout } = await run(process.execPath, [join(here, "workload.js"), w.id], { maxBuffer: 16 << 20, timeout: 20 * 60_000 });
    results.push(...(JSON.parse(stdout) as Measurement[]));
  }
  process.stdout.write(`${formatResults(results)}\n`);
  await mkdir("bench-results", { recursive: true });
  const file = join("bench-results", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  process.stderr.write(`bench: results written to ${file}\n`);
}

await main();
