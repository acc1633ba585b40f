/**
 * Runs one campaign scenario against a test cloud and checks the promise:
 * - every VM on the cloud was returned as a reference, or the next cleanup
 *   (with every VM past Context_MaxLifetime) removes it: none is left;
 * - no two VMs share one pilot;
 * - nothing is on the cloud that the journal does not show;
 * - no secret reached any log;
 * and, on the way: no reference is returned twice or names a VM that does not
 * exist, and a pilot killJob calls killed is being deleted.
 */

import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { CloudComputingElement } from "../../../src/ce/index.js";
import { createLogger, type LogRecord } from "../../../src/log.js";
import { readJournal } from "../../../src/ops/journal.js";
import type { CampaignCloud } from "./campaign-cloud.js";
import type { Scenario } from "./scenario.js";

export interface ScenarioFigures {
  readonly faultsFired: number;
  readonly vmsCreated: number;
  /** Made but never returned: found and removed by cleanup. */
  readonly unreported: number;
  readonly lost: number;
  readonly doubled: number;
}

export interface ScenarioResult {
  readonly figures: ScenarioFigures;
  /** Broken invariants, one line each (empty: the scenario passed). */
  readonly violations: string[];
}

const MONTH_MS = 30 * 86_400_000;

export async function runScenario(sc: Scenario, cloud: CampaignCloud, ceName: string, workDir: string, pilot: string): Promise<ScenarioResult> {
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sink: (r) => logs.push(r) });
  const journal = join(await mkdtemp(join(workDir, "j-")), "journal.jsonl");
  const options = { ...cloud.ceOptions, Cloud_RateLimit: "0", Submit_Concurrency: "3", MaxTotalJobs: "100", MaxWaitingJobs: "100", Journal_File: journal };
  const violations: string[] = [];
  const returned: string[] = [];
  const ce = new CloudComputingElement(ceName, { logger });
  const set = await ce.setParameters(options);
  if (!set.OK) throw new Error(`campaign CE options: ${set.Message}`);
  const idOf = (ref: string): string => ref.slice("cloud://".length);

  for (const [i, step] of sc.steps.entries()) {
    for (const f of step.faults) cloud.inject(f);
    const op = step.op;
    if (op.kind === "submit") {
      const r = await ce.submitJob(pilot, null, op.count);
      if (r.OK) returned.push(...r.Value);
    } else if (op.kind === "status") {
      const r = await ce.getJobStatus(returned);
      if (!r.OK) violations.push(`step ${i}: getJobStatus failed: ${r.Message}`);
    } else if (op.kind === "kill") {
      const refs = returned.slice(0, Math.ceil(returned.length * op.share));
      const r = refs.length > 0 ? await ce.killJob(refs) : undefined;
      if (r?.OK) for (const ref of r.Value.killed) if (!cloud.deleting(idOf(ref))) violations.push(`step ${i}: killJob reported ${ref} killed, but it still runs`);
    } else if (op.kind === "finish") {
      cloud.finish(returned.slice(0, Math.ceil(returned.length * op.share)).map(idOf));
    } else {
      await ce.cleanupPilots();
    }
  }
  await ce.shutdown();

  // The next cleanup, without faults, with every VM past its lifetime, once the cloud has acted on every request.
  cloud.clearFaults();
  await cloud.quiesce();
  const sweeper = new CloudComputingElement(ceName, { logger, now: () => Date.now() + MONTH_MS });
  await sweeper.setParameters(options);
  const swept = await sweeper.cleanupPilots();
  await sweeper.shutdown();
  if (!swept.OK) violations.push(`final cleanup failed: ${swept.Message}`);
  else if (swept.Value.failed.length > 0) violations.push(`final cleanup could not remove ${swept.Value.failed.map((f) => `${f.ref} (${f.error ?? ""})`).join(", ")}`);

  const vms = cloud.vms(ceName);
  const byId = new Set(vms.map((v) => v.id));
  if (new Set(returned).size !== returned.length) violations.push(`a reference was returned twice: ${returned.join(", ")}`);
  for (const ref of returned) if (!byId.has(idOf(ref))) violations.push(`returned ${ref}, which the cloud never made`);
  const lost = vms.filter((v) => v.live);
  for (const v of lost) violations.push(`lost: ${v.name} (${v.id}) is still running after the final cleanup${returned.includes(`cloud://${v.id}`) ? "" : ", and was never returned"}`);
  const doubled = cloud.doubled(ceName);
  if (doubled > 0) violations.push(`doubled: ${doubled} VM(s) beyond one per pilot`);

  const { entries } = await readJournal(journal);
  const journaledRefs = new Set(entries.filter((e) => e.action === "create" && e.outcome === "ok").map((e) => e.ref));
  // A batch is journaled under the CE's VM name; the cloud may suffix its index (Nova `-1`, GCE `-0001`)
  // and GCE lower-cases the name's hex, so a VM is shown by its batch's line when its name reduces to it.
  const journaledNames = new Set(entries.filter((e) => e.action === "create").map((e) => e.vmName.toLowerCase()));
  const batchName = (name: string): string => name.toLowerCase().replace(/-\d+$/, "");
  for (const v of vms) {
    const shown = journaledRefs.has(`cloud://${v.id}`) || journaledNames.has(v.name.toLowerCase()) || journaledNames.has(batchName(v.name));
    if (!shown) violations.push(`not in the journal: ${v.name} (${v.id})`);
  }

  const secrets = cloud.secrets().filter((s) => s.length >= 6);
  const leaked = logs.map((r) => JSON.stringify(r)).filter((line) => secrets.some((s) => line.includes(s)));
  if (leaked.length > 0) violations.push(`a secret reached the log: ${leaked.length} line(s), e.g. a '${logs.length ? "record" : ""}' of level ${JSON.parse(leaked[0]!).level as string}`);

  return {
    figures: {
      faultsFired: cloud.faultsFired(),
      vmsCreated: vms.length,
      unreported: vms.filter((v) => !returned.includes(`cloud://${v.id}`)).length,
      lost: lost.length,
      doubled,
    },
    violations,
  };
}
