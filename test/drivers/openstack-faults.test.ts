/**
 * OPENSTACK driver under faults injected by the test-tree server: retries
 * of 5xx/429/resets/timeouts, a lost create looked up by name (never two
 * VMs), quota → QuotaExceeded, 401 → one re-auth, token expiry, error
 * messages cut short and free of secrets and user-data.
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { CloudceError } from "../../src/errors.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { eventually } from "./conformance.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";

let cloud: OpenStackTestServer;
let driver: CloudDriver;

const USER_DATA = new Uint8Array(Buffer.from("#cloud-config\nruncmd: [echo pilot-secret-payload]\n"));

function request(names: string[]): CreateNodesRequest {
  return {
    imageId: cloud.state.images[0]!.id,
    flavorId: "1",
    networkIds: [cloud.state.networks[0]!.id],
    nodes: names.map((name) => ({ name, userData: USER_DATA, metadata: { "cloudce-ce": "ce-a" } })),
    requestId: "req-1",
  };
}

const serversNamed = (name: string) => [...cloud.state.servers.values()].filter((s) => s.name === name);

async function failureOf(p: Promise<unknown>): Promise<CloudceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CloudceError);
  return err as CloudceError;
}

describe("OPENSTACK driver under faults", () => {
  beforeEach(async () => {
    cloud = await startOpenStackServer({ bootMs: 50 });
    driver = openStackDriver(cloud, { timeoutMs: HANG_TIMEOUT_MS });
  });
  afterEach(async () => {
    await driver.close();
    await cloud.close();
  });

  it("retries 5xx and 429 (with Retry-After) on reads", async () => {
    cloud.faults.add({ route: "compute GET /flavors/detail", kind: "status", status: 503, times: 2 });
    expect((await driver.listFlavors()).length).toBe(3);
    expect(cloud.count("compute GET /flavors/detail")).toBe(3);
    cloud.faults.add({ route: "network GET /v2.0/networks", kind: "status", status: 429, retryAfter: "0" });
    expect((await driver.listNetworks({ name: "private" })).length).toBe(1);
    expect(cloud.count("network GET /v2.0/networks")).toBe(2);
  });

  it("gives up after the retry budget with CloudUnavailable", async () => {
    cloud.faults.add({ route: "compute GET /limits", kind: "status", status: 500, times: Infinity });
    const err = await failureOf(driver.getLimits());
    expect(err.code).toBe("CloudUnavailable");
    expect(cloud.count("compute GET /limits")).toBe(4);
  });

  it("retries a reset connection and a request that times out", async () => {
    cloud.faults.add({ route: "image GET /v2/images", kind: "reset" });
    expect((await driver.listImages({ name: "cirros-fake" })).length).toBe(1);
    cloud.faults.add({ route: "image GET /v2/images", kind: "hang" });
    expect((await driver.listImages({ name: "cirros-fake" })).length).toBe(1);
    expect(cloud.count("image GET /v2/images")).toBe(4);
  });

  it("finds the server of a create whose answer was lost instead of creating a twin", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    const result = await driver.createNodes(request(["PILOT_LOST1"]));
    expect(result.failed).toEqual([]);
    expect(result.created.map((n) => n.name)).toEqual(["PILOT_LOST1"]);
    expect(serversNamed("PILOT_LOST1")).toHaveLength(1);
    expect(result.created[0]!.id).toBe(serversNamed("PILOT_LOST1")[0]!.id);
    expect(cloud.count("compute POST /servers")).toBe(1);
  });

  it("retries a create that never reached Nova (hang, reset, 503) once look-ups showed nothing was made", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "hang" });
    cloud.faults.add({ route: "compute POST /servers", kind: "reset" });
    cloud.faults.add({ route: "compute POST /servers", kind: "status", status: 503 });
    const result = await driver.createNodes(request(["PILOT_RETRY1"]));
    expect(result.failed).toEqual([]);
    expect(serversNamed("PILOT_RETRY1")).toHaveLength(1);
    expect(cloud.count("compute POST /servers")).toBe(4);
    // Three look-ups per lost answer (at 0, T/2 and T after it).
    expect(cloud.count("compute GET /servers/detail")).toBe(9);
  });

  it("maps a 403 quota answer to QuotaExceeded, per node, without retrying", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "quota" });
    const result = await driver.createNodes(request(["PILOT_Q1"]));
    expect(result.created).toEqual([]);
    expect((result.failed[0]!.error as CloudceError).code).toBe("QuotaExceeded");
    expect(cloud.count("compute POST /servers")).toBe(1);
  });

  it("hits the real project quota: the 11th instance fails with QuotaExceeded", async () => {
    const names = Array.from({ length: 11 }, (_, i) => `PILOT_QUOTA${i}`);
    const result = await driver.createNodes(request(names));
    expect(result.created).toHaveLength(10);
    expect(result.failed.map((f) => (f.error as CloudceError).code)).toEqual(["QuotaExceeded"]);
    // Like real Nova, /limits counts a server once it is scheduled.
    const want = { instances: 0, cores: 10, ramMb: 51_200 - 10 * 512 };
    await eventually(
      () => driver.getLimits(),
      (l) => JSON.stringify(l) === JSON.stringify(want),
      5_000,
      "limits to count every server",
    );
  });

  it("runs at most 8 creates at once", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "delay", delayMs: 50, times: Infinity });
    cloud.state.quotas.set(cloud.state.quotas.keys().next().value as string, {
      instances: 100,
      cores: 100,
      ramMb: 100_000,
    });
    cloud.resetCounts();
    const result = await driver.createNodes(request(Array.from({ length: 20 }, (_, i) => `PILOT_PAR${i}`)));
    expect(result.created).toHaveLength(20);
    expect(cloud.maxInFlight()).toBeLessThanOrEqual(8);
  });

  it("re-authenticates once after a 401 and retries the call", async () => {
    await driver.listFlavors();
    cloud.state.revokeAllTokens();
    expect((await driver.listFlavors()).length).toBe(3);
    expect(cloud.count("identity POST /v3/auth/tokens")).toBe(2);
    expect(cloud.count("compute GET /flavors/detail")).toBe(3);
  });

  it("fails with AuthFailed when the 401 persists after the re-authentication", async () => {
    await driver.listFlavors();
    cloud.faults.add({ route: "compute GET /flavors/detail", kind: "status", status: 401, times: 2 });
    const err = await failureOf(driver.listFlavors());
    expect(err.code).toBe("AuthFailed");
    expect(cloud.count("identity POST /v3/auth/tokens")).toBe(2);
  });

  it("renews a token before it expires instead of waiting for a 401", async () => {
    const shortCloud = await startOpenStackServer({ tokenTtlMs: 300 });
    const d = openStackDriver(shortCloud);
    try {
      await d.listFlavors();
      const first = [...shortCloud.state.tokens.values()][0]!;
      await eventually(
        async () => Date.now(),
        (t) => t > first.expiresAt,
        5_000,
        "the first token to expire",
      );
      await d.listFlavors();
      expect(shortCloud.count("identity POST /v3/auth/tokens")).toBe(2);
      expect(shortCloud.count("compute GET /flavors/detail")).toBe(2);
    } finally {
      await d.close();
      await shortCloud.close();
    }
  });

  it("rejects a wrong password with AuthFailed, no retry, and no password in the message", async () => {
    const bad = openStackDriver(cloud, { credentials: { secret: "wrong-password-xyz" } });
    try {
      const err = await failureOf(bad.listImages());
      expect(err.code).toBe("AuthFailed");
      expect(err.message).not.toContain("wrong-password-xyz");
      expect(err.message).toContain("Driver_ex_force_auth_url");
      expect(cloud.count("identity POST /v3/auth/tokens")).toBe(1);
    } finally {
      await bad.close();
    }
  });

  it("logs retries without passwords, tokens or user-data", async () => {
    const records: LogRecord[] = [];
    const d = openStackDriver(cloud, {
      timeoutMs: HANG_TIMEOUT_MS,
      logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
    });
    try {
      cloud.faults.add({
        route: "identity POST /v3/auth/tokens",
        kind: "status",
        status: 503,
        message: "echo demo-password-1",
      });
      cloud.faults.add({ route: "compute POST /servers", kind: "status", status: 502 });
      cloud.faults.add({ route: "compute GET /servers/detail", kind: "status", status: 500 });
      expect((await d.createNodes(request(["PILOT_LOG1"]))).failed).toEqual([]);
      const text = JSON.stringify(records);
      expect(records.length).toBeGreaterThanOrEqual(2);
      for (const secret of ["demo-password-1", Buffer.from(USER_DATA).toString("base64"), ...cloud.state.tokens.keys()])
        expect(text).not.toContain(secret);
    } finally {
      await d.close();
    }
  });

  it("logs the create retry only after cutting out the user-data a fault echoed, plain or as a piece of its base64", async () => {
    const records: LogRecord[] = [];
    const d = openStackDriver(cloud, {
      timeoutMs: HANG_TIMEOUT_MS,
      logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
    });
    try {
      const text = Buffer.from(USER_DATA).toString("utf8");
      const b64piece = Buffer.from(USER_DATA).toString("base64").slice(4, 64);
      cloud.faults.add({
        route: "compute POST /servers",
        kind: "status",
        status: 502,
        message: `upstream rejected ${text} (${b64piece}...)`,
      });
      cloud.faults.add({ route: "compute GET /servers/detail", kind: "status", status: 500 });
      expect((await d.createNodes(request(["PILOT_ECHO1"]))).failed).toEqual([]);
      const retries = records.filter((r) => r.msg === "retrying server create");
      expect(retries).toHaveLength(1);
      const logged = JSON.stringify(retries);
      expect(logged).toContain("HTTP 502");
      for (const leak of ["pilot-secret-payload", b64piece]) expect(logged).not.toContain(leak);
    } finally {
      await d.close();
    }
  });

  it("keeps error messages one line, short, and free of the user-data", async () => {
    const b64 = Buffer.from(USER_DATA).toString("base64");
    cloud.faults.add({
      route: "compute POST /servers",
      kind: "status",
      status: 400,
      message: `Invalid user_data ${b64}\n${"x".repeat(5_000)}`,
    });
    const result = await driver.createNodes(request(["PILOT_MSG1"]));
    const message = result.failed[0]!.error.message;
    expect(message).not.toContain(b64);
    expect(message).not.toContain("\n");
    expect(message.length).toBeLessThan(500);
    expect(message).toMatch(/^compute POST \/servers: HTTP 400/);
  });

  it("reads Glance's HTML error pages", async () => {
    cloud.faults.add({ route: "image GET /v2/images/{id}", kind: "status", status: 403, message: "<b>denied</b>" });
    const err = await failureOf(driver.listImages({ id: cloud.state.images[0]!.id }));
    expect(err.code).toBe("Forbidden");
  });
});
