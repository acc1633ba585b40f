/**
 * The CE end to end on an OpenStack cloud (the test-tree server or the real
 * lab): submit pilots, watch them boot, a pilot's VM powering off → Done,
 * console output, quota-bounded available(), kill, cleanup. One scenario,
 * so the test-tree cloud and the real Nova are held to the same story.
 */

import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { CloudComputingElement, type PilotStatus, type Result } from "../../../src/ce/index.js";
import { parseReference } from "../../../src/ce/pilot-reference.js";
import type { CloudDriver } from "../../../src/drivers/driver.js";
import { silentLogger } from "../../../src/log.js";
import { eventually } from "../../drivers/conformance.js";

export interface CeScenarioTarget {
  readonly authUrl: string;
  readonly user: string;
  readonly password: string;
  readonly project: string;
  readonly image: string;
  readonly flavor: string;
  readonly network: string;
  /** A driver on the same project, to power a VM off as a finished pilot would. */
  readonly driver: CloudDriver;
  readonly stateTimeoutMs: number;
  /** Instance quota of the project (available() must not exceed what is left). */
  readonly maxInstances: number;
}

function ok<T>(r: Result<T>): T {
  if (!r.OK) throw new Error(`expected OK, got: ${r.Message}`);
  return r.Value;
}

async function authFile(ceName: string, user: string, password: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-os-"));
  const file = join(dir, "cloud.auth");
  await writeFile(file, `[${ceName}]\nkey = ${user}\nsecret = ${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  const pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
  return dir;
}

export async function runCeScenario(t: CeScenarioTarget): Promise<void> {
  const run = randomBytes(3).toString("hex").toUpperCase();
  const ceName = `ce-${run.toLowerCase()}.example.org`;
  const dir = await authFile(ceName, t.user, t.password);
  const ce = new CloudComputingElement(ceName, { logger: silentLogger });
  ok(
    await ce.setParameters({
      CloudType: "OPENSTACK",
      CloudAuth: join(dir, "cloud.auth"),
      Driver_ex_force_auth_url: t.authUrl,
      Driver_ex_force_auth_version: "3.x_password",
      Driver_ex_tenant_name: t.project,
      Instance_Image: `name:${t.image}`,
      Instance_Flavor: `name:${t.flavor}`,
      Instance_Networks: `name:${t.network}`,
      Instance_NamePrefix: `LAB${run}_`,
      MaxTotalJobs: "3",
      MaxWaitingJobs: "3",
    }),
  );
  const statuses = async (refs: readonly string[]): Promise<PilotStatus[]> =>
    Object.values(ok(await ce.getJobStatus(refs)));
  try {
    ok(await ce.isValid());
    const free = ok(await ce.available());
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(Math.min(3, t.maxInstances));

    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 2));
    expect(refs).toHaveLength(2);
    for (const s of await statuses(refs)) expect(["Waiting", "Running"]).toContain(s);
    await eventually(
      () => statuses(refs),
      (s) => s.every((x) => x === "Running"),
      t.stateTimeoutMs,
      "both pilots Running",
    );
    expect(ok(await ce.available())).toBeLessThanOrEqual(1);

    const [first, second] = refs as [string, string];
    const stop = await t.driver.stopNodes([parseReference(first)]);
    expect(stop.failed).toEqual([]);
    await eventually(
      () => statuses([first]),
      (s) => s[0] === "Done",
      t.stateTimeoutMs,
      "the stopped pilot Done",
    );

    const [stdout] = ok(await ce.getJobOutput(second));
    expect(typeof stdout).toBe("string");

    const killed = ok(await ce.killJob([second]));
    expect(killed.killed).toEqual([second]);
    await eventually(
      () => statuses([second]),
      (s) => s[0] === "Deleted",
      t.stateTimeoutMs,
      "the killed pilot Deleted",
    );

    const cleaned = ok(await ce.cleanupPilots());
    expect(cleaned.failed).toEqual([]);
    expect(cleaned.deleted.map((d) => d.ref)).toContain(first);
    // The cleaned-up pilot had finished: it stays Done once its VM is gone; the killed one reads Deleted.
    await eventually(
      async () => (await t.driver.getNode(parseReference(first)))?.state ?? "absent",
      (s) => s === "gone" || s === "absent",
      t.stateTimeoutMs,
      "the cleaned-up VM gone",
    );
    expect(await statuses(refs)).toEqual(["Done", "Deleted"]);
  } finally {
    const left = await t.driver.listNodes({ namePrefix: `LAB${run}_`, metadata: {} });
    if (left.length > 0) await t.driver.destroyNodes(left.map((n) => n.id));
    await ce.shutdown();
  }
}
