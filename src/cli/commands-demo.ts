/**
 * `cloudce demo`: the README's main job on the LOCAL cloud. Submits a few
 * pilots, shows them running, waits for them to finish, shows their status
 * and output, and cleans up: every CE operation once, end to end.
 */

import type { CloudComputingElement, PilotStatus } from "../ce/index.js";
import { CloudceError } from "../errors.js";
import { cleanup, status, submit, unwrap } from "./commands-pilots.js";
import { validate } from "./commands-tools.js";
import { report } from "./commands-ops.js";
import type { Output } from "./output.js";

const FINISHED: readonly PilotStatus[] = ["Done", "Aborted", "Deleted", "Failed"];

export interface DemoOptions {
  readonly executable: string;
  readonly count: number;
  /** How long to wait for the pilots to finish. */
  readonly timeoutMs: number;
}

export async function demo(ce: CloudComputingElement, out: Output, opts: DemoOptions): Promise<void> {
  out.progress("== 1. validate the configuration");
  await validate(ce, out);
  out.progress("\n== 2. submit pilots");
  const refs = await submit(ce, out, opts.executable, opts.count);
  out.progress("\n== 3. the pilots' VMs on the cloud");
  await status(ce, out, []);
  out.progress("\n== 4. wait for the pilots to finish (each VM powers off at the end)");
  await waitFinished(ce, out, refs, opts.timeoutMs);
  await status(ce, out, refs);
  out.progress(`\n== 5. console output of ${refs[0]}`);
  const [console] = unwrap(await ce.getJobOutput(refs[0]!), "output");
  out.result({ ref: refs[0], output: console }, () => console.trimEnd());
  out.progress("\n== 6. clean up stopped VMs");
  await cleanup(ce, out);
  await status(ce, out, []);
  if (ce.getParameters()["Journal_File"]) {
    out.progress("\n== 7. report from the audit journal");
    await report(ce, out, undefined);
  }
}

async function waitFinished(ce: CloudComputingElement, out: Output, refs: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const statuses = unwrap(await ce.getJobStatus(refs), "status");
    const values = Object.values(statuses);
    const summary = summarise(values);
    if (summary !== last) out.progress(`   ${summary}`);
    last = summary;
    if (values.every((s) => FINISHED.includes(s))) return;
    if (Date.now() > deadline) throw new CloudceError("Timeout", `demo: pilots still not finished after ${timeoutMs / 1000} s (${summary})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function summarise(values: readonly PilotStatus[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
}
