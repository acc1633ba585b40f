/**
 * `cloudce demo`: the README's main job on the LOCAL cloud. Submits a few
 * pilots, shows them running, waits for them to finish, shows their status
 * and output, and cleans up: every CE operation once, end to end.
 */

import type { CloudComputingElement, PilotStatus } from "../ce/index.js";
import { killFailures } from "../ce/kill.js";
import { CloudceError } from "../errors.js";
import { cleanup, status, submit } from "./commands-pilots.js";
import { validate } from "./commands-tools.js";
import { report } from "./commands-ops.js";
import type { Output } from "./output.js";
import { monotonicNow } from "../util/monotonic.js";
import { pause } from "../util/pause.js";

const FINISHED: readonly PilotStatus[] = ["Done", "Aborted", "Deleted", "Failed"];

export interface DemoOptions {
  readonly executable: string;
  readonly count: number;
  /** How long to wait for the pilots to finish. */
  readonly timeoutMs: number;
  /** SIGINT/SIGTERM: the submission stops, the wait ends, and the demo's VMs are removed. */
  readonly signal?: AbortSignal;
}

export async function demo(ce: CloudComputingElement, out: Output, opts: DemoOptions): Promise<void> {
  const steps = out.json ? collectSteps(out) : undefined;
  const o = steps?.output ?? out;
  try {
    o.section("== 1. validate the configuration");
    await validate(ce, o);
    o.section("\n== 2. submit pilots");
    const { refs } = await submit(ce, o, opts.executable, opts.count, opts.signal);
    if (opts.signal?.aborted) return await removeOnInterrupt(ce, o, refs);
    o.section("\n== 3. the pilots' VMs on the cloud");
    await status(ce, o, []);
    o.section("\n== 4. wait for the pilots to finish (each VM powers off at the end)");
    await waitFinished(ce, o, refs, opts.timeoutMs, opts.signal);
    if (opts.signal?.aborted) return await removeOnInterrupt(ce, o, refs);
    await status(ce, o, refs);
    o.section(`\n== 5. console output of ${refs[0]}`);
    const console = await ce.core.getJobOutput(refs[0]!);
    o.result({ ref: refs[0], output: console }, () => console.trimEnd());
    o.section("\n== 6. clean up stopped VMs");
    await cleanup(ce, o);
    await status(ce, o, []);
    if (ce.getParameters()["Journal_File"]) {
      o.section("\n== 7. report from the audit journal");
      await report(ce, o, undefined);
    }
  } finally {
    steps?.flush();
  }
}

/**
 * `demo --json`: one JSON document, `{"steps": [{"step", "results": [...]}]}`,
 * printed at the end (also when a step fails, with the steps done so far).
 */
function collectSteps(out: Output): { output: Output; flush: () => void } {
  const steps: { step: string; results: unknown[] }[] = [];
  const output: Output = {
    ...out,
    section: (title) => {
      steps.push({ step: title.replace(/^\n?== \d+\. /, ""), results: [] });
    },
    result: (value) => {
      steps.at(-1)?.results.push(value);
    },
  };
  return { output, flush: () => out.result({ steps }) };
}

/** A stopped demo leaves no VM behind: it kills the ones it made, and says so. */
async function removeOnInterrupt(ce: CloudComputingElement, out: Output, refs: readonly string[]): Promise<void> {
  out.section("\n== interrupted: removing the demo's VMs");
  if (refs.length > 0) {
    const report = await ce.core.killPilots([...refs]);
    if (report.failed.length > 0) throw new CloudceError("CloudError", killFailures(report));
  }
  out.result({ interrupted: true, removed: refs }, () => `removed ${refs.length} VM${refs.length === 1 ? "" : "s"}`);
}

async function waitFinished(
  ce: CloudComputingElement,
  out: Output,
  refs: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = monotonicNow() + timeoutMs;
  let last = "";
  for (;;) {
    const statuses = await ce.core.getJobStatus(refs);
    const values = Object.values(statuses);
    const summary = summarise(values);
    if (summary !== last && !out.json) out.section(`   ${summary}`);
    last = summary;
    if (values.every((s) => FINISHED.includes(s)) || signal?.aborted) return;
    if (monotonicNow() > deadline)
      throw new CloudceError("Timeout", `pilots still not finished after ${timeoutMs / 1000} s (${summary})`);
    await pause(250, signal);
  }
}

function summarise(values: readonly PilotStatus[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
}
