import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { readJournal } from "../../src/ops/journal.js";
import { registerSecret, scrubSecrets } from "../../src/secrets.js";
import { memoryCe, ok } from "./memory-ce.js";

// The CE's removals (killJob, cleanupPilots), its audit journal and the rest of its interface, on the memory cloud.

const env = memoryCe();

describe("killJob and cleanupPilots", () => {
  it("kills only this CE's VMs; already gone is success", async () => {
    const a = await env.makeCe("ce-a");
    const b = await env.makeCe("ce-b");
    const mine = ok(await a.submitJob(env.pilot, null, 2));
    const theirs = ok(await b.submitJob(env.pilot, null, 1));
    env.cloud.nodes.delete(mine[1]!.slice(8));
    expect(ok(await a.killJob(mine)).killed).toEqual(mine);
    expect(env.cloud.nodes.has(mine[0]!.slice(8))).toBe(false);
    expect(await a.killJob(theirs)).toMatchObject({
      OK: false,
      Message: `failed to kill 1 of 1 pilots: ${theirs[0]} (belongs to another CE: not killed)`,
    });
    expect(env.cloud.nodes.has(theirs[0]!.slice(8))).toBe(true);
  });

  it("reports each reference it failed to kill", async () => {
    const ce = await env.makeCe();
    const refs = ok(await ce.submitJob(env.pilot, null, 2));
    env.cloud.faults.destroyFailure = (id) =>
      id === refs[0]!.slice(8) ? new CloudceError("CloudUnavailable", "HTTP 503") : undefined;
    expect(await ce.killJob(refs)).toMatchObject({
      OK: false,
      Message: `failed to kill 1 of 2 pilots: ${refs[0]} (HTTP 503)`,
    });
  });

  it("removes stopped, failed and expired VMs of this CE only, and says why", async () => {
    const a = await env.makeCe("ce-a", { Context_MaxLifetime: "3600" });
    const b = await env.makeCe("ce-b");
    const refs = ok(await a.submitJob(env.pilot, null, 4));
    const other = ok(await b.submitJob(env.pilot, null, 1));
    const id = (i: number) => refs[i]!.slice(8);
    env.cloud.setState(id(0), "stopped");
    env.cloud.setState(id(1), "error");
    env.cloud.setState(id(2), "running", { createdAt: new Date(Date.now() - 7200_000) });
    env.cloud.setState(other[0]!.slice(8), "stopped");
    const report = ok(await a.cleanupPilots());
    expect(report.deleted.map((e) => [e.ref, e.reason])).toEqual([
      [refs[0], "stopped"],
      [refs[1], "error"],
      [refs[2], "expired"],
    ]);
    expect([...env.cloud.nodes.keys()].sort()).toEqual([id(3), other[0]!.slice(8)].sort());
  });

  it("one failed deletion never stops the others", async () => {
    const ce = await env.makeCe();
    const refs = ok(await ce.submitJob(env.pilot, null, 3));
    for (const r of refs) env.cloud.setState(r.slice(8), "stopped");
    env.cloud.faults.destroyFailure = (i) =>
      i === refs[1]!.slice(8) ? new CloudceError("CloudUnavailable", "HTTP 500") : undefined;
    const report = ok(await ce.cleanupPilots());
    expect(report.deleted.map((e) => e.ref)).toEqual([refs[0], refs[2]]);
    expect(report.failed).toEqual([{ ref: refs[1], name: expect.any(String), reason: "stopped", error: "HTTP 500" }]);
  });

  it("a failed deletion's error reaches the OK result with secrets scrubbed", async () => {
    const ce = await env.makeCe();
    const refs = ok(await ce.submitJob(env.pilot, null, 1));
    env.cloud.setState(refs[0]!.slice(8), "stopped");
    registerSecret("s3cr3t-token-value");
    env.cloud.faults.destroyFailure = () =>
      new CloudceError("CloudUnavailable", "HTTP 500 for token s3cr3t-token-value");
    const report = ok(await ce.cleanupPilots());
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]!.error).not.toContain("s3cr3t-token-value");
  });
});

describe("the audit journal", () => {
  it("records every create and delete, with stamps, reasons and the flavor each VM got", async () => {
    const journal = join(env.dir, `journal-${Date.now()}.jsonl`);
    const ce = await env.makeCe("ce-j", { Journal_File: journal, Queue: "long" });
    const r = await ce.submitJob(env.pilot, null, 2);
    const refs = ok(r);
    env.cloud.setState(refs[0]!.slice(8), "stopped");
    ok(await ce.cleanupPilots());
    ok(await ce.killJob([refs[1]!]));
    const { entries } = await readJournal(journal);
    expect(entries.map((e) => [e.action, e.outcome, e.ref, e.reason])).toEqual([
      ["create", "ok", refs[0], "submit: flavor small"],
      ["create", "ok", refs[1], "submit: flavor small"],
      ["delete", "ok", refs[0], "stopped"],
      ["delete", "ok", refs[1], "killed"],
    ]);
    expect(entries[0]).toMatchObject({ ce: "ce-j", queue: "long", stamp: r.OK ? r.PilotStampDict[refs[0]!] : "" });
    expect(entries[3]).toMatchObject({ vmName: entries[1]!.vmName, stamp: r.OK ? r.PilotStampDict[refs[1]!] : "" });
    expect(entries[3]!.vmName).not.toBe("");
  });

  it("journals no delete for a reference the cloud never had, and reports it as gone", async () => {
    const journal = join(env.dir, `journal-gone-${Date.now()}.jsonl`);
    const ce = await env.makeCe("ce-g", { Journal_File: journal });
    const report = ok(await ce.killJob(["cloud://never-was"]));
    expect(report).toMatchObject({ killed: ["cloud://never-was"], gone: ["cloud://never-was"] });
    expect((await readJournal(journal)).entries).toEqual([]);
  });
});

describe("the rest of the CE interface", () => {
  it("gives console output, or says the driver cannot", async () => {
    const ce = await env.makeCe();
    const [ref] = ok(await ce.submitJob(env.pilot, null, 1));
    expect(ok(await ce.getJobOutput(ref!))[0]).toMatch(/^console of VMDIRAC3_/);
    env.useCloud({ capabilities: { consoleOutput: false } });
    const other = await env.makeCe();
    expect(await other.getJobOutput("cloud://abc")).toMatchObject({
      OK: false,
      Message: "getJobOutput: not supported by the MEMORY driver (no console output)",
    });
  });

  it("describes itself with integers as numbers", async () => {
    const d = ok(await (await env.makeCe("ce-d")).getDescription());
    expect(d).toMatchObject({ CEName: "ce-d", CEType: "Cloud", CloudType: "MEMORY", MaxTotalJobs: 10 });
  });

  it("needs a proxy before it can say whether it is valid", async () => {
    expect(await (await env.makeCe()).isProxyValid()).toMatchObject({ OK: false, Code: "ProxyMissing" });
  });

  it("shuts down, and builds its driver afresh if used again", async () => {
    const ce = await env.makeCe();
    ok(await ce.submitJob(env.pilot, null, 1));
    expect(await ce.shutdown()).toEqual({ OK: true, Value: {} });
    expect(ok(await ce.getCEStatus())).toMatchObject({ WaitingJobs: 1 });
  });
});

describe("the auth file's secret, as the driver reads it", () => {
  it("is scrubbed, unless the driver says it is the path of a file it reads (secretIsPath); other secret keys always are", async () => {
    const keyPath = join(env.dir, "keys", "robot-key.json");
    const auth = join(env.dir, "path-secret.auth");
    await writeFile(
      auth,
      `[DEFAULT]\nkey = robot\nsecret = ${keyPath}\napplication_credential_secret = memory-extra-secret-value\n`,
      { mode: 0o600 },
    );
    const seen = (): string => scrubSecrets(`${keyPath} memory-extra-secret-value`);

    env.useCloud({ capabilities: { requiresCredentials: true, secretIsPath: true } });
    const pathCe = await env.makeCe("path-secret.example.org", { CloudAuth: auth });
    expect(await pathCe.isValid()).toEqual({ OK: true, Value: null });
    expect(seen()).toBe(`${keyPath} [secret]`);
    await pathCe.shutdown();

    env.useCloud({ capabilities: { requiresCredentials: true } });
    const plainCe = await env.makeCe("path-secret.example.org", { CloudAuth: auth });
    expect(await plainCe.isValid()).toEqual({ OK: true, Value: null });
    expect(seen()).toBe("[secret] [secret]");
    await plainCe.shutdown();
  });
});
