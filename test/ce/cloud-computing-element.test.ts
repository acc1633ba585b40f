import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData } from "../../src/context/index.js";
import { CloudceError } from "../../src/errors.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { MemoryCloud, type MemoryCloudOptions } from "../../src/testing.js";
import { scrubSecrets } from "../../src/secrets.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";

let cloud: MemoryCloud;
let dir: string;
let pilot: string;
const logs: LogRecord[] = [];
const logger = createLogger({ level: "debug", sink: (r) => logs.push(r) });

function useCloud(options: MemoryCloudOptions = {}): MemoryCloud {
  cloud = new MemoryCloud({ autoBoot: false, ...options });
  return cloud;
}

const BASE = {
  CloudType: "MEMORY",
  Instance_Image: "name:pilot-image",
  Instance_Flavor: "name:small",
  Instance_Networks: "name:private",
  MaxTotalJobs: "10",
  MaxWaitingJobs: "4",
};

async function makeCe(name = "ce-a.example.org", extra: Record<string, string> = {}): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(name, { logger });
  const set = await ce.setParameters({ ...BASE, ...extra });
  expect(set).toEqual({ OK: true, Value: null });
  return ce;
}

function ok<T>(r: { OK: true; Value: T } | { OK: false; Message: string }): T {
  if (!r.OK) throw new Error(`expected OK, got: ${r.Message}`);
  return r.Value;
}

beforeAll(async () => {
  registerDriver("MEMORY", () => cloud.driver());
  dir = await mkdtemp(join(tmpdir(), "cloudce-ce-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho 'pilot'\n");
});

beforeEach(() => {
  useCloud();
  logs.length = 0;
});

describe("setParameters and isValid", () => {
  it("names every missing mandatory option", async () => {
    const ce = new CloudComputingElement("ce", { logger });
    expect(await ce.isValid()).toMatchObject({
      OK: false,
      Message:
        "CloudType: mandatory option is missing; Instance_Image: mandatory option is missing; Instance_Flavor: mandatory option is missing",
    });
  });

  it("refuses a non-numeric integer option at once, naming it", async () => {
    const ce = new CloudComputingElement("ce", { logger });
    expect(await ce.setParameters({ ...BASE, Context_MaxLifetime: "2w" })).toMatchObject({
      OK: false,
      Message: "Context_MaxLifetime: '2w' is not a whole number from 1 to 31536000",
    });
  });

  it("queue options given later override CE options", async () => {
    const ce = await makeCe();
    await ce.setParameters({ MaxWaitingJobs: 1 });
    expect(ce.getParameters()["MaxWaitingJobs"]).toBe("1");
  });

  it("reports an unknown CloudType and a bad driver path", async () => {
    const ce = await makeCe("ce", { CloudType: "NIMBUS" });
    expect(await ce.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("CloudType: unknown cloud type 'NIMBUS'"),
    });
    const bad = await makeCe("ce", { CloudType: "./nowhere/driver.js#Driver" });
    expect(await bad.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("CloudType: cannot load driver module"),
    });
  });

  it("reports a missing template file by path", async () => {
    const ce = await makeCe("ce", { Context_Template: "/nonexistent/pilot.tmpl" });
    expect(await ce.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("/nonexistent/pilot.tmpl"),
    });
  });

  it("answers null or non-object arguments with an error result, never a throw", async () => {
    const ce = new CloudComputingElement("ce-null.example.org", { logger });
    const asAny = ce as unknown as {
      setParameters(v: unknown): Promise<unknown>;
      setToken(v: unknown): Promise<unknown>;
      setProxy(v: unknown): Promise<unknown>;
    };
    expect(await asAny.setParameters(null)).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^setParameters: expects .*got null/),
      Errno: "OptionInvalid",
    });
    expect(await asAny.setParameters(["CloudType"])).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/got an array/),
    });
    expect(await asAny.setToken(null)).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^setToken: expects .*got null/),
      Errno: "TokenMissing",
    });
    expect(await asAny.setToken(42)).toMatchObject({ OK: false, Message: expect.stringMatching(/got a number/) });
    expect(await asAny.setProxy(null)).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^setProxy: expects .*got null/),
      Errno: "ProxyInvalid",
    });
    expect(await ce.setParameters({ ...BASE })).toEqual({ OK: true, Value: null }); // still usable afterwards
  });

  it("stops scrubbing a token or proxy once a new one replaces it", async () => {
    const ce = await makeCe("ce-rotate.example.org");
    const [p1, p2] = [await makeProxyChain({ secondsLeft: 3600 }), await makeProxyChain({ secondsLeft: 3600 })];
    ok(await ce.setToken("bearer-token-first"));
    ok(await ce.setProxy(p1.proxyPem));
    ok(await ce.setToken("bearer-token-second"));
    ok(await ce.setProxy(p2.proxyPem));
    expect(scrubSecrets("bearer-token-first")).toBe("bearer-token-first");
    expect(scrubSecrets("bearer-token-second")).toBe("[secret]");
    // (The test chains may share a key; the proxies as wholes differ.)
    expect(scrubSecrets(p1.proxyPem)).not.toBe("[secret]");
    expect(scrubSecrets(p2.proxyPem)).toBe("[secret]");
    expect(scrubSecrets(p2.proxyKeyPem.trim())).toBe("[secret]");
    await ce.shutdown();
  });

  it("is valid with a complete configuration", async () => {
    expect(await (await makeCe()).isValid()).toEqual({ OK: true, Value: null });
  });
});

describe("submitJob", () => {
  it("creates one named VM per pilot, stamps keyed by reference", async () => {
    const ce = await makeCe();
    const r = await ce.submitJob(pilot, null, 3);
    const refs = ok(r);
    expect(refs).toHaveLength(3);
    expect(r.OK && Object.keys(r.PilotStampDict).sort()).toEqual([...refs].sort());
    for (const ref of refs) {
      expect(ref).toMatch(/^cloud:\/\/[0-9a-f-]{36}$/);
      const entry = cloud.nodes.get(ref.slice("cloud://".length))!;
      expect(entry.node.name).toMatch(/^VMDIRAC3_[0-9A-F]{8}$/);
      expect(entry.node.metadata).toMatchObject({ "cloudce-ce": "ce-a.example.org" });
      const stamp = r.OK ? r.PilotStampDict[ref]! : "";
      expect(stamp).toMatch(/^[0-9a-f]{32}$/);
      const text = decodeUserData(entry.userData)
        .map((p) => p.content)
        .join("\n");
      expect(text).toContain(stamp);
    }
    expect(new Set(Object.values(r.OK ? r.PilotStampDict : {})).size).toBe(3);
  });

  it("resolves image, flavor and networks once, not per VM or per call", async () => {
    const ce = await makeCe();
    ok(await ce.submitJob(pilot, null, 5));
    ok(await ce.submitJob(pilot, null, 5));
    expect(cloud.calls).toMatchObject({ listImages: 1, listFlavors: 1, listNetworks: 1, createNodes: 10 });
  });

  it("returns what was created when some creations fail, and logs each failure", async () => {
    const ce = await makeCe();
    let n = 0;
    cloud.faults.createFailure = () =>
      n++ === 1 ? new CloudceError("QuotaExceeded", "quota of 2 instances reached") : undefined;
    expect(ok(await ce.submitJob(pilot, null, 3))).toHaveLength(2);
    expect(logs.filter((l) => l.msg === "failed to create pilot VM")).toHaveLength(1);
  });

  it("fails with the first cause when nothing was created", async () => {
    const ce = await makeCe();
    cloud.faults.createFailure = () => new CloudceError("QuotaExceeded", "quota of 0 instances reached");
    expect(await ce.submitJob(pilot, null, 2)).toMatchObject({
      OK: false,
      Message: "quota of 0 instances reached",
      Errno: "QuotaExceeded",
    });
  });

  it("makes one create call for a whole batch on a batching cloud, each VM with its own stamp", async () => {
    useCloud({ capabilities: { uniformBatch: true } });
    const ce = await makeCe();
    const r = await ce.submitJob(pilot, null, 4);
    expect(ok(r)).toHaveLength(4);
    expect(cloud.calls["createNodes"]).toBe(1);
    expect(new Set(Object.values(r.OK ? r.PilotStampDict : {})).size).toBe(4);
  });

  it.each([
    [0, "numberOfJobs: 0 is not a whole number >= 1"],
    [1.5, "numberOfJobs: 1.5 is not a whole number >= 1"],
  ])("rejects numberOfJobs %s", async (n, message) => {
    expect(await (await makeCe()).submitJob(pilot, null, n)).toMatchObject({ OK: false, Message: message });
  });

  it("names a missing executable", async () => {
    expect(await (await makeCe()).submitJob("/no/pilot.sh", null, 1)).toMatchObject({
      OK: false,
      Message: "executableFile: cannot read pilot executable /no/pilot.sh (no such file)",
      Errno: "ExecutableMissing",
    });
  });

  it("names an image that does not exist, listing what does", async () => {
    const ce = await makeCe("ce", { Instance_Image: "name:centos7" });
    expect(await ce.submitJob(pilot, null, 1)).toMatchObject({
      OK: false,
      Message: "Instance_Image: no image named 'centos7'; the cloud has: pilot-image",
      Errno: "ImageNotFound",
    });
  });

  it("refuses user-data over the driver's limit before any create call", async () => {
    useCloud({ capabilities: { userData: { maxBytes: 64, measuredAs: "raw" } } });
    const r = await (await makeCe()).submitJob(pilot, null, 2);
    expect(r).toMatchObject({ OK: false, Errno: "UserDataTooLarge" });
    expect(cloud.calls["createNodes"]).toBeUndefined();
  });
});

describe("getJobStatus, getCEStatus and available", () => {
  it("maps every VM state with one listing for all references", async () => {
    const ce = await makeCe();
    const refs = ok(await ce.submitJob(pilot, null, 6));
    const ids = refs.map((r) => r.slice("cloud://".length));
    cloud.setState(ids[1]!, "running");
    cloud.setState(ids[2]!, "stopped");
    cloud.setState(ids[3]!, "error");
    cloud.setState(ids[4]!, "running", { interrupted: true });
    cloud.nodes.delete(ids[5]!);
    const before = cloud.calls["listNodes"] ?? 0;
    expect(ok(await ce.getJobStatus(refs))).toEqual({
      [refs[0]!]: "Waiting",
      [refs[1]!]: "Running",
      [refs[2]!]: "Done",
      [refs[3]!]: "Aborted",
      [refs[4]!]: "Aborted",
      [refs[5]!]: "Deleted",
    });
    expect(cloud.calls["listNodes"]).toBe(before + 1);
  });

  it("says Unknown when the cloud cannot be reached", async () => {
    const ce = await makeCe();
    const refs = ok(await ce.submitJob(pilot, null, 2));
    cloud.faults.listFailure = new CloudceError("CloudUnavailable", "connection refused");
    expect(ok(await ce.getJobStatus(refs))).toEqual({ [refs[0]!]: "Unknown", [refs[1]!]: "Unknown" });
  });

  it("rejects references that are not cloud://", async () => {
    expect(await (await makeCe()).getJobStatus(["cloud://x", "12345"])).toMatchObject({
      OK: false,
      Message: "not cloud://<instance-id> pilot references: '12345'",
      Errno: "InvalidReference",
    });
  });

  it("counts only this CE's VMs and follows DIRAC's slot rule", async () => {
    const a = await makeCe("ce-a");
    const b = await makeCe("ce-b");
    const refs = ok(await a.submitJob(pilot, null, 3));
    ok(await b.submitJob(pilot, null, 5));
    cloud.setState(refs[0]!.slice(8), "running");
    expect(await a.getCEStatus()).toMatchObject({ OK: true, RunningJobs: 1, WaitingJobs: 2, SubmittedJobs: 3 });
    const avail = await a.available();
    expect(avail).toMatchObject({
      OK: true,
      Value: 2,
      CEInfoDict: { MaxTotalJobs: 10, MaxWaitingJobs: 4, RunningJobs: 1, WaitingJobs: 2 },
    });
  });

  it("offers no slot while the newest VM is younger than Submit_WaveDelay", async () => {
    const ce = await makeCe("ce-w", { Submit_WaveDelay: "600" });
    expect(await ce.available()).toMatchObject({ OK: true, Value: 4 });
    const [ref] = ok(await ce.submitJob(pilot, null, 1));
    expect(await ce.available()).toMatchObject({ OK: true, Value: 0 });
    cloud.setState(ref!.slice(8), "booting", { createdAt: new Date(Date.now() - 601_000) });
    expect(await ce.available()).toMatchObject({ OK: true, Value: 3 });
  });

  it("never offers more slots than the cloud project can start", async () => {
    useCloud({ instanceQuota: 3 });
    const ce = await makeCe();
    ok(await ce.submitJob(pilot, null, 2));
    expect(await ce.available()).toMatchObject({ OK: true, Value: 1, CEInfoDict: { CloudCapacity: 1 } });
  });
});
