import { describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData } from "../../src/context/index.js";
import { CloudceError } from "../../src/errors.js";
import { scrubSecrets } from "../../src/secrets.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";
import { BASE, memoryCe, ok } from "./memory-ce.js";

// The CE's options (setParameters, isValid) and submitJob, on the memory cloud.

const env = memoryCe();

describe("setParameters and isValid", () => {
  it("names every missing mandatory option", async () => {
    const ce = new CloudComputingElement("ce", { logger: env.logger });
    expect(await ce.isValid()).toMatchObject({
      OK: false,
      Message:
        "CloudType: mandatory option is missing; Instance_Image: mandatory option is missing; Instance_Flavor: mandatory option is missing",
    });
  });

  it("refuses a non-numeric integer option at once, naming it", async () => {
    const ce = new CloudComputingElement("ce", { logger: env.logger });
    expect(await ce.setParameters({ ...BASE, Context_MaxLifetime: "2w" })).toMatchObject({
      OK: false,
      Message: "Context_MaxLifetime: '2w' is not a whole number from 1 to 31536000",
    });
  });

  it("queue options given later override CE options", async () => {
    const ce = await env.makeCe();
    await ce.setParameters({ MaxWaitingJobs: 1 });
    expect(ce.getParameters()["MaxWaitingJobs"]).toBe("1");
  });

  it("reports an unknown CloudType and a bad driver path", async () => {
    const ce = await env.makeCe("ce", { CloudType: "NIMBUS" });
    expect(await ce.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("CloudType: unknown cloud type 'NIMBUS'"),
    });
    const bad = await env.makeCe("ce", { CloudType: "./nowhere/driver.js#Driver" });
    expect(await bad.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("CloudType: cannot load driver module"),
    });
  });

  it("reports a missing template file by path", async () => {
    const ce = await env.makeCe("ce", { Context_Template: "/nonexistent/pilot.tmpl" });
    expect(await ce.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("/nonexistent/pilot.tmpl"),
    });
  });

  it("answers null or non-object arguments with an error result, never a throw", async () => {
    const ce = new CloudComputingElement("ce-null.example.org", { logger: env.logger });
    const asAny = ce as unknown as {
      setParameters(v: unknown): Promise<unknown>;
      setToken(v: unknown): Promise<unknown>;
      setProxy(v: unknown): Promise<unknown>;
    };
    expect(await asAny.setParameters(null)).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^setParameters: expects .*got null/),
      Code: "OptionInvalid",
    });
    expect(await asAny.setParameters(["CloudType"])).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/got an array/),
    });
    expect(await asAny.setToken(null)).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^setToken: expects .*got null/),
      Code: "TokenMissing",
    });
    expect(await asAny.setToken(42)).toMatchObject({ OK: false, Message: expect.stringMatching(/got a number/) });
    expect(await asAny.setProxy(null)).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^setProxy: expects .*got null/),
      Code: "ProxyInvalid",
    });
    expect(await ce.setParameters({ ...BASE })).toEqual({ OK: true, Value: null }); // still usable afterwards
  });

  it("stops scrubbing a token or proxy once a new one replaces it", async () => {
    const ce = await env.makeCe("ce-rotate.example.org");
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
    expect(await (await env.makeCe()).isValid()).toEqual({ OK: true, Value: null });
  });
});

describe("submitJob", () => {
  it("creates one named VM per pilot, stamps keyed by reference", async () => {
    const ce = await env.makeCe();
    const r = await ce.submitJob(env.pilot, null, 3);
    const refs = ok(r);
    expect(refs).toHaveLength(3);
    expect(r.OK && Object.keys(r.PilotStampDict).sort()).toEqual([...refs].sort());
    for (const ref of refs) {
      expect(ref).toMatch(/^cloud:\/\/[0-9a-f-]{36}$/);
      const entry = env.cloud.nodes.get(ref.slice("cloud://".length))!;
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
    const ce = await env.makeCe();
    ok(await ce.submitJob(env.pilot, null, 5));
    ok(await ce.submitJob(env.pilot, null, 5));
    expect(env.cloud.calls).toMatchObject({ listImages: 1, listFlavors: 1, listNetworks: 1, createNodes: 10 });
  });

  it("returns what was created when some creations fail, and logs each failure", async () => {
    const ce = await env.makeCe();
    let n = 0;
    env.cloud.faults.createFailure = () =>
      n++ === 1 ? new CloudceError("QuotaExceeded", "quota of 2 instances reached") : undefined;
    expect(ok(await ce.submitJob(env.pilot, null, 3))).toHaveLength(2);
    expect(env.logs.filter((l) => l.msg === "failed to create pilot VM")).toHaveLength(1);
  });

  it("fails with the first cause when nothing was created", async () => {
    const ce = await env.makeCe();
    env.cloud.faults.createFailure = () => new CloudceError("QuotaExceeded", "quota of 0 instances reached");
    expect(await ce.submitJob(env.pilot, null, 2)).toMatchObject({
      OK: false,
      Message: "quota of 0 instances reached",
      Code: "QuotaExceeded",
    });
  });

  it("makes one create call for a whole batch on a batching cloud, each VM with its own stamp", async () => {
    env.useCloud({ capabilities: { uniformBatch: true } });
    const ce = await env.makeCe();
    const r = await ce.submitJob(env.pilot, null, 4);
    expect(ok(r)).toHaveLength(4);
    expect(env.cloud.calls["createNodes"]).toBe(1);
    expect(new Set(Object.values(r.OK ? r.PilotStampDict : {})).size).toBe(4);
  });

  it.each([
    [0, "numberOfJobs: 0 is not a whole number >= 1"],
    [1.5, "numberOfJobs: 1.5 is not a whole number >= 1"],
  ])("rejects numberOfJobs %s", async (n, message) => {
    expect(await (await env.makeCe()).submitJob(env.pilot, null, n)).toMatchObject({ OK: false, Message: message });
  });

  it("names a missing executable", async () => {
    expect(await (await env.makeCe()).submitJob("/no/pilot.sh", null, 1)).toMatchObject({
      OK: false,
      Message: "executableFile: cannot read pilot executable /no/pilot.sh (no such file)",
      Code: "ExecutableMissing",
    });
  });

  it("names an image that does not exist, listing what does", async () => {
    const ce = await env.makeCe("ce", { Instance_Image: "name:centos7" });
    expect(await ce.submitJob(env.pilot, null, 1)).toMatchObject({
      OK: false,
      Message: "Instance_Image: no image named 'centos7'; the cloud has: pilot-image",
      Code: "ImageNotFound",
    });
  });

  it("refuses user-data over the driver's limit before any create call", async () => {
    env.useCloud({ capabilities: { userData: { maxBytes: 64, measuredAs: "raw" } } });
    const r = await (await env.makeCe()).submitJob(env.pilot, null, 2);
    expect(r).toMatchObject({ OK: false, Code: "UserDataTooLarge" });
    expect(env.cloud.calls["createNodes"]).toBeUndefined();
  });
});
