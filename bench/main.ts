/**
 * `npm run bench [-- <id substring>…] [--quick] [--latency ms] [--concurrency n]
 * [--server-rate n] [--client-rate n]`: cloudce's speed, measured, not
 * asserted. Each workload variant runs in its own process (clean CPU and
 * peak RSS; the cloud runs in yet another), prints one JSON measurement;
 * this prints a table with baseline/ours ratios and writes every result to
 * bench-results/<time>.json so runs can be compared.
 */

import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Measurement } from "./measure.js";
import { parseBenchArgs, toArgs } from "./options.js";
import { formatResults } from "./report.js";
import { WORKLOADS } from "./workloads/index.js";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));

async function main(): Promise<void> {
  const { options, rest: only } = parseBenchArgs(process.argv.slice(2));
  const selected = WORKLOADS.filter((w) => only.length === 0 || only.some((o) => w.id.includes(o)));
  const results: Measurement[] = [];
  const started = Date.now();
  for (const w of selected) {
    for (const variant of w.variants) {
      process.stderr.write(`bench: ${w.id} ${variant}…`);
      const t0 = Date.now();
      const { stdout } = await run(process.execPath, [join(here, "workload.js"), w.id, variant, ...toArgs(options)], {
        maxBuffer: 16 << 20,
        timeout: 20 * 60_000,
      });
      results.push(JSON.parse(stdout) as Measurement);
      process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}`;
  const settings = `latency ${options.latencyMs} ms, Submit_Concurrency ${options.concurrency}, Cloud_RateLimit ${options.clientCallsPerSecond}/s, server limit ${options.serverCallsPerSecond}/s${options.quick ? ", --quick (baselines sampled, ~ = extrapolated)" : ""}`;
  process.stdout.write(`${new Date().toISOString()} · ${machine}\n${settings}\n\n${formatResults(results)}\n`);
  process.stderr.write(`bench: ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`);
  await mkdir("bench-results", { recursive: true });
  const file = join("bench-results", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), machine, options, results }, null, 2));
  process.stderr.write(`bench: results written to ${file}\n`);
}

await main();
