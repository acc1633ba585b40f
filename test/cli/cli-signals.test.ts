/**
 * SIGTERM or SIGINT to a real `cloudce` process half-way through
 * `submit -n 20` or a one-shot `cleanup`: it stops within the bound
 * (Cloud_RequestTimeout for the calls in flight), prints the references it
 * created (or the VMs it removed), and the journal shows exactly what is on
 * the cloud.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { DEFAULT_TEMPLATE_PATH } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { startFixture } from "../support/child.js";
import { until } from "../support/wait.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CLI = new URL("../../src/cli/", import.meta.url);
const CE = "cli-signals.example.org";
let dir: string;
let cloud: OpenStackTestServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-cli-sig-"));
  await writeDemoAuth(join(dir, "auth.ini"));
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});

afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

async function setup(): Promise<{ config: string; journal: string; options: Record<string, string> }> {
  cloud = await startOpenStackServer({ bootMs: 10, stopMs: 10, deleteMs: 10 });
  cloud.state.quotas.get("0b1c7a2e5f6d4e8f9a0b1c2d3e4f5a6b")!.instances = 100;
  cloud.state.quotas.get("0b1c7a2e5f6d4e8f9a0b1c2d3e4f5a6b")!.cores = 100;
  const sub = await mkdtemp(join(dir, "run-"));
  const journal = join(sub, "journal.jsonl");
  const options = {
    ...demoOpenStackOptions(cloud.authUrl, join(dir, "auth.ini")),
    Cloud_RateLimit: "0",
    Cloud_RequestTimeout: "5",
    Submit_Concurrency: "2",
    Journal_File: journal,
    Context_Template: DEFAULT_TEMPLATE_PATH,
    // One create per VM, so that a signal arrives between creates.
    Driver_ex_multi_create: "off",
  };
  const config = join(sub, "ce.conf");
  await writeFile(config, [`CE = ${CE}`, ...Object.entries(options).map(([k, v]) => `${k} = ${v}`)].join("\n"));
  return { config, journal, options };
}

async function journaled(journal: string, action: "create" | "delete"): Promise<string[]> {
  const { entries } = await readJournal(journal).catch(() => ({
    entries: [] as { action: string; outcome: string; ref: string }[],
  }));
  return entries.filter((e) => e.action === action && e.outcome === "ok").map((e) => e.ref);
}

const live = (c: OpenStackTestServer): string[] =>
  [...c.state.servers.values()]
    .filter((s) => c.state.view(s) !== undefined && s.deleteAt === undefined)
    .map((s) => `cloud://${s.id}`);

describe("signals to the cloudce command", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s during submit -n 20 prints the references made so far, all journaled",
    async (sig) => {
      const { config, journal } = await setup();
      cloud!.faults.add({
        route: "compute POST /servers",
        kind: "delay",
        delayMs: 150,
        times: Number.POSITIVE_INFINITY,
      });
      const child = await startFixture(
        "main",
        ["--config", config, "--json", "submit", "-n", "20", "--executable", join(dir, "pilot.sh")],
        CLI,
      );
      await until(async () => (await journaled(journal, "create")).length >= 2, "two creates in the journal");
      const sent = Date.now();
      child.child.kill(sig);
      const exit = await child.exited;
      // The creates in flight answer in 150 ms; the margin absorbs a busy machine.
      expect(Date.now() - sent).toBeLessThan(20_000);
      expect(exit.code).toBe(sig === "SIGTERM" ? 143 : 130);
      const printed = JSON.parse(child.stdout()) as { refs: string[]; Interrupted?: string };
      expect(printed.Interrupted).toMatch(/interrupted/);
      expect(printed.refs.length).toBeGreaterThanOrEqual(2);
      expect(printed.refs.length).toBeLessThan(20);
      expect([...printed.refs].sort()).toEqual(live(cloud!).sort());
      expect((await journaled(journal, "create")).sort()).toEqual([...printed.refs].sort());
    },
  );

  it("SIGTERM during a one-shot cleanup stops it, prints what it removed, journaled", async () => {
    const { config, journal, options } = await setup();
    const ce = new CloudComputingElement(CE, { logger: silentLogger });
    await ce.setParameters(options);
    const made = await ce.submitJob(join(dir, "pilot.sh"), null, 8);
    expect(made.OK).toBe(true);
    await ce.shutdown();
    for (const s of cloud!.state.servers.values()) s.stopAt = Date.now() - 1000;
    cloud!.faults.add({
      route: "compute DELETE /servers/{id}",
      kind: "delay",
      delayMs: 150,
      times: Number.POSITIVE_INFINITY,
    });
    const child = await startFixture(
      "main",
      ["--config", config, "--json", "cleanup", "--lock", join(dir, `${Date.now()}.lock`)],
      CLI,
    );
    await until(async () => (await journaled(journal, "delete")).length >= 2, "two deletes in the journal");
    child.child.kill("SIGTERM");
    const exit = await child.exited;
    expect(exit.code).toBe(143);
    const printed = JSON.parse(child.stdout()) as { deleted: { ref: string }[]; interrupted?: string };
    expect(printed.interrupted).toMatch(/not tried/);
    expect(printed.deleted.length).toBeLessThan(8);
    expect((await journaled(journal, "delete")).sort()).toEqual(printed.deleted.map((d) => d.ref).sort());
    expect(live(cloud!)).toHaveLength(8 - printed.deleted.length);
  });
});
