/**
 * Runs one campaign scenario against a test cloud and checks the promise:
 * - every VM on the cloud was returned as a reference, or the next cleanup
 *   (with every VM past Context_MaxLifetime) removes it: none is left;
 * - no two VMs share one pilot;
 * - nothing is on the cloud that the journal does not show;
 * - no secret reached any log;
 * - no submission has more VMs than it asked for pilots (a flavor fallback
 *   never makes again what the cloud did make);
 * and, on the way: no reference is returned twice or names a VM that does not
 * exist, a pilot killJob calls killed is being deleted, and a stopped submit
 * starts no create after its stop.
 */

import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { CloudComputingElement } from "../../../src/ce/index.js";
import { createLogger, type LogRecord } from "../../../src/log.js";
import { readJournal } from "../../../src/ops/journal.js";
import type { CampaignCloud } from "./campaign-cloud.js";
import type { Scenario, Stop } from "./scenario.js";

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

export async function runScenario(
  sc: Scenario,
  cloud: CampaignCloud,
  ceName: string,
  workDir: string,
  pilot: string,
): Promise<ScenarioResult> {
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sink: (r) => logs.push(r) });
  const journal = join(await mkdtemp(join(workDir, "j-")), "journal.jsonl");
  const options = {
    ...cloud.ceOptions,
    Cloud_RateLimit: "0",
    Submit_Concurrency: "3",
    MaxTotalJobs: "100",
    MaxWaitingJobs: "100",
    Journal_File: journal,
    ...(sc.adoptUntagged ? { Ownership_AdoptUntagged: "yes" } : {}),
  };
  const violations: string[] = [];
  const returned: string[] = [];
  const ce = new CloudComputingElement(ceName, { logger });
  const set = await ce.setParameters(options);
  if (!set.OK) throw new Error(`campaign CE options: ${set.Message}`);
  const idOf = (ref: string): string => ref.slice("cloud://".length);
  // A submission's VMs share its batch name (the cloud may suffix an index): each name → the pilots asked for.
  const asked = new Map<string, number>();
  const batchOf = (name: string): string => (asked.has(name.toLowerCase()) ? name.toLowerCase() : batchName(name));

  for (const [i, step] of sc.steps.entries()) {
    for (const f of step.faults) cloud.inject(f);
    const op = step.op;
    if (op.kind === "submit") {
      const stopped = op.stop ? stopper(op.stop, cloud) : undefined;
      const r = await ce.submitJob(pilot, null, op.count, stopped ? { signal: stopped.signal } : {});
      stopped?.end();
      if (r.OK) returned.push(...r.Value);
      // Every batch name this submission used is journaled (made or failed) before it returns.
      for (const e of (await readJournal(journal)).entries)
        if (e.action === "create" && !asked.has(e.vmName.toLowerCase())) asked.set(e.vmName.toLowerCase(), op.count);
      for (const v of cloud.vms(ceName)) if (!asked.has(batchOf(v.name))) asked.set(batchOf(v.name), op.count);
      const late = stopped?.createsAfter();
      if (late !== undefined && late > cloud.createsAfterStop)
        violations.push(
          `step ${i}: ${late} create calls reached the cloud after the stop (at most ${cloud.createsAfterStop} may be under way)`,
        );
    } else if (op.kind === "status") {
      const r = await ce.getJobStatus(returned);
      if (!r.OK) violations.push(`step ${i}: getJobStatus failed: ${r.Message}`);
    } else if (op.kind === "kill") {
      const refs = returned.slice(0, Math.ceil(returned.length * op.share));
      const r = refs.length > 0 ? await ce.killJob(refs) : undefined;
      if (r?.OK)
        for (const ref of r.Value.killed)
          if (!cloud.deleting(idOf(ref)))
            violations.push(`step ${i}: killJob reported ${ref} killed, but it still runs`);
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
  else if (swept.Value.failed.length > 0)
    violations.push(
      `final cleanup could not remove ${swept.Value.failed.map((f) => `${f.ref} (${f.error ?? ""})`).join(", ")}`,
    );

  const vms = cloud.vms(ceName);
  const byId = new Set(vms.map((v) => v.id));
  if (new Set(returned).size !== returned.length)
    violations.push(`a reference was returned twice: ${returned.join(", ")}`);
  for (const ref of returned) if (!byId.has(idOf(ref))) violations.push(`returned ${ref}, which the cloud never made`);
  const lost = vms.filter((v) => v.live);
  for (const v of lost)
    violations.push(
      `lost: ${v.name} (${v.id}) is still running after the final cleanup${returned.includes(`cloud://${v.id}`) ? "" : ", and was never returned"}`,
    );
  const doubled = cloud.doubled(ceName);
  if (doubled > 0) violations.push(`doubled: ${doubled} VM(s) beyond one per pilot`);

  const { entries } = await readJournal(journal);
  const journaledRefs = new Set(entries.filter((e) => e.action === "create" && e.outcome === "ok").map((e) => e.ref));
  // A batch is journaled under the CE's VM name; the cloud may suffix its index (Nova `-1`, GCE `-0001`)
  // and GCE lower-cases the name's hex, so a VM is shown by its batch's line when its name reduces to it.
  const journaledNames = new Set(entries.filter((e) => e.action === "create").map((e) => e.vmName.toLowerCase()));
  for (const v of vms) {
    const shown =
      journaledRefs.has(`cloud://${v.id}`) ||
      journaledNames.has(v.name.toLowerCase()) ||
      journaledNames.has(batchName(v.name));
    if (!shown) violations.push(`not in the journal: ${v.name} (${v.id})`);
  }

  const perBatch = new Map<string, number>();
  for (const v of vms) perBatch.set(batchOf(v.name), (perBatch.get(batchOf(v.name)) ?? 0) + 1);
  for (const [batch, n] of perBatch) {
    const wanted = asked.get(batch);
    if (wanted !== undefined && n > wanted)
      violations.push(`doubled: batch ${batch} has ${n} VMs for ${wanted} pilots`);
  }

  const secrets = cloud.secrets().filter((s) => s.length >= 6);
  const leaked = logs.map((r) => JSON.stringify(r)).filter((line) => secrets.some((s) => line.includes(s)));
  if (leaked.length > 0)
    violations.push(
      `a secret reached the log: ${leaked.length} line(s), e.g. a '${logs.length ? "record" : ""}' of level ${JSON.parse(leaked[0]!).level as string}`,
    );

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

/**
 * A CE's VM name from a cloud's VM name: lower case, without the index a batch create adds (Nova `-1`,
 * GCE `-0001`) or the size and member suffix of an Azure scale set (`-<4 hex>_<8 hex>`).
 */
function batchName(name: string): string {
  return name
    .toLowerCase()
    .replace(/-[0-9a-f]{4}_[0-9a-f]{8}$/, "")
    .replace(/-\d+$/, "");
}

interface Stopper {
  readonly signal: AbortSignal;
  end(): void;
  /** Create calls that reached the cloud after the stop (undefined if it never fired). */
  createsAfter(): number | undefined;
}

/** Stops a submit after its n-th create call reached the cloud, or at a deadline, as `serve` does. */
function stopper(stop: Stop, cloud: CampaignCloud): Stopper {
  const controller = new AbortController();
  const first = cloud.createCalls();
  let atStop: number | undefined;
  const fire = (): void => {
    if (atStop !== undefined) return;
    atStop = cloud.createCalls();
    controller.abort();
  };
  const timer =
    stop.kind === "deadline"
      ? setTimeout(fire, stop.ms)
      : setInterval(() => {
          if (cloud.createCalls() - first >= stop.creates) fire();
        }, 1);
  return {
    signal: controller.signal,
    end: () => clearInterval(timer),
    createsAfter: () => (atStop === undefined ? undefined : cloud.createCalls() - atStop),
  };
}
