/**
 * The facts drivers report for the CE's policies, checked at the edges:
 * each cloud's own fields (Nova's zone-less launched_at, `updated`, faults
 * and quota messages; EC2's LaunchTime, StateTransitionReason and error
 * codes; Keystone's application credential expires_at).
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { toEc2Error } from "../../src/drivers/ec2/errors.js";
import { toCloudNode as ec2Node, transitionTime } from "../../src/drivers/ec2/state-map.js";
import { httpError, quotaResource } from "../../src/drivers/openstack/http-errors.js";
import { novaTime, toCloudNode as novaNode } from "../../src/drivers/openstack/state-map.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";

describe("OpenStack facts", () => {
  const server = { id: "s1", name: "VM1", created: "2026-06-01T12:00:00Z", metadata: {} };

  it("reads launched_at (UTC, written without a zone) and a SHUTOFF server's updated as its stop time", () => {
    expect(novaTime("2026-06-01T12:01:02.345678")?.toISOString()).toBe("2026-06-01T12:01:02.345Z");
    expect(novaTime("2026-06-01T12:01:02Z")?.toISOString()).toBe("2026-06-01T12:01:02.000Z");
    expect(novaTime(null)).toBeUndefined();
    const stopped = novaNode({
      ...server,
      status: "SHUTOFF",
      updated: "2026-06-01T12:05:00Z",
      "OS-SRV-USG:launched_at": "2026-06-01T12:01:00.000000",
    });
    expect(stopped).toMatchObject({
      launchedAt: new Date("2026-06-01T12:01:00Z"),
      stoppedAt: new Date("2026-06-01T12:05:00Z"),
    });
    // A running server's `updated` is any change, not a stop.
    const running = novaNode({
      ...server,
      status: "ACTIVE",
      updated: "2026-06-01T12:05:00Z",
      "OS-SRV-USG:launched_at": "2026-06-01T12:01:00.000000",
    });
    expect(running.stoppedAt).toBeUndefined();
    expect(novaNode({ ...server, status: "BUILD", "OS-SRV-USG:launched_at": null }).launchedAt).toBeUndefined();
  });

  it("maps Nova's No valid host fault to CapacityExceeded, other faults to CloudError", () => {
    expect(
      novaNode({
        ...server,
        status: "ERROR",
        fault: { code: 500, message: "No valid host was found. There are not enough hosts available." },
      }).fault,
    ).toEqual({ code: "CapacityExceeded", message: "No valid host was found. There are not enough hosts available." });
    expect(
      novaNode({ ...server, status: "ERROR", fault: { code: 500, message: "Build of instance aborted: disk" } }).fault
        ?.code,
    ).toBe("CloudError");
    expect(novaNode({ ...server, status: "ACTIVE", fault: { message: "No valid host" } }).fault).toBeUndefined();
  });

  it("says which quota ran out", () => {
    expect(quotaResource("Quota exceeded for cores: Requested 8, but already used 18 of 20 cores")).toBe("cores");
    expect(quotaResource("Quota exceeded for ram: Requested 4096, but already used 49152 of 51200 ram")).toBe("ram");
    expect(quotaResource("Quota exceeded for instances: Requested 1, but already used 10 of 10 instances")).toBe(
      "instances",
    );
    const e = httpError({
      status: 403,
      body: JSON.stringify({ forbidden: { code: 403, message: "Quota exceeded for cores: Requested 8" } }),
      what: "compute POST /servers",
    });
    expect(e).toMatchObject({ code: "QuotaExceeded", quotaResource: "cores" });
  });
});

describe("EC2 facts", () => {
  const base = {
    InstanceId: "i-1",
    LaunchTime: new Date("2026-06-01T12:00:00Z"),
    Tags: [{ Key: "Name", Value: "VM1" }],
  };

  it("LaunchTime is the launch once past pending; a stopped instance's stop time is in StateTransitionReason", () => {
    expect(transitionTime("User initiated (2026-06-01 12:05:07 GMT)")?.toISOString()).toBe("2026-06-01T12:05:07.000Z");
    expect(transitionTime("")).toBeUndefined();
    expect(ec2Node({ ...base, State: { Name: "pending" } }).launchedAt).toBeUndefined();
    expect(ec2Node({ ...base, State: { Name: "running" } }).launchedAt).toEqual(base.LaunchTime);
    const stopped = ec2Node({
      ...base,
      State: { Name: "stopped" },
      StateTransitionReason: "User initiated (2026-06-01 12:05:07 GMT)",
    });
    expect(stopped.stoppedAt?.toISOString()).toBe("2026-06-01T12:05:07.000Z");
  });

  it("maps capacity and quota codes with the quota resource", () => {
    const sdk = (name: string) => Object.assign(new Error("m"), { name, $metadata: { httpStatusCode: 400 } });
    expect(toEc2Error(sdk("InsufficientInstanceCapacity"), "RunInstances")).toMatchObject({ code: "CapacityExceeded" });
    expect(toEc2Error(sdk("VcpuLimitExceeded"), "RunInstances")).toMatchObject({
      code: "QuotaExceeded",
      quotaResource: "cores",
    });
    expect(toEc2Error(sdk("InstanceLimitExceeded"), "RunInstances")).toMatchObject({
      code: "QuotaExceeded",
      quotaResource: "instances",
    });
  });
});

describe("Keystone credential expiry", () => {
  let cloud: OpenStackTestServer;
  const drivers: CloudDriver[] = [];
  beforeAll(async () => {
    cloud = await startOpenStackServer();
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await cloud.close();
  });
  const appCredDriver = (): CloudDriver => {
    const d = openStackDriver(cloud, {
      options: { ex_force_auth_version: "3.x_appcred", ex_tenant_name: "" },
      credentials: { key: "appcred0000000000000000000000001", secret: "robot-secret-1" },
    });
    drivers.push(d);
    return d;
  };

  it("reads an application credential's expires_at with the token it issued", async () => {
    cloud.state.appCredentials[0] = { ...cloud.state.appCredentials[0]!, expiresAt: "2026-07-01T00:00:00.000000" };
    expect(await appCredDriver().credentialExpiry?.()).toEqual([
      { kind: "application-credential", expiresAt: new Date("2026-07-01T00:00:00Z") },
    ]);
  });

  it("an application credential without expires_at never expires; a password login reports nothing", async () => {
    cloud.state.appCredentials[0] = { ...cloud.state.appCredentials[0]!, expiresAt: undefined };
    expect(await appCredDriver().credentialExpiry?.()).toEqual([
      { kind: "application-credential", expiresAt: undefined },
    ]);
    const password = openStackDriver(cloud);
    drivers.push(password);
    expect(await password.credentialExpiry?.()).toEqual([]);
  });
});
