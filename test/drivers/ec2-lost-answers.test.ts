/**
 * EC2: a RunInstances whose every attempt lost its answer. The ClientToken
 * keeps the retries from doubling the batch; the instances the cloud started
 * are then found by that token and returned as created, not left running
 * unreported until Context_MaxLifetime.
 */

import { describe, expect, it } from "vitest";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { ec2FixturePerTest } from "../servers/ec2/vitest-scope.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";

const start = ec2FixturePerTest();
const ANSWERED_TIMEOUT_MS = 60_000;

const request = (count: number): CreateNodesRequest => ({
  imageId: "ami-0a1b2c3d4e5f60001",
  flavorId: "t3.micro",
  networkIds: [],
  nodes: Array.from({ length: count }, () => ({
    name: "EC2L_00000000",
    userData: new Uint8Array(),
    metadata: { "cloudce-ce": "lost", "cloudce-batch": "b1" },
  })),
  requestId: "lost-answers-request-01",
});

describe("EC2 RunInstances with every answer lost", () => {
  it("finds the started instances by client token and returns them", async () => {
    // Dropped connections end a call without any wait: a long timeout keeps a slow machine from
    // turning an answered call into a timeout, which would change what is being tested.
    const f = await start({ options: { max_attempts: "2" }, requestTimeoutMs: ANSWERED_TIMEOUT_MS });
    f.server.inject({ action: "RunInstances", kind: "dropAfter", times: 2 });
    const result = await f.driver.createNodes(request(3));
    expect(f.server.calls["RunInstances"]).toBe(2);
    const live = [...f.server.cloud.instances.values()];
    expect(live).toHaveLength(3);
    expect(result.created.map((n) => n.id).sort()).toEqual(live.map((i) => i.id).sort());
    expect(result.created.every((n) => n.name === "EC2L_00000000" && n.metadata["cloudce-ce"] === "lost")).toBe(true);
    expect(result.failed).toEqual([]);
  });

  it("also after answers that hang past the timeout", async () => {
    const f = await start({ options: { max_attempts: "2" }, requestTimeoutMs: HANG_TIMEOUT_MS });
    f.server.inject({ action: "RunInstances", kind: "hangAfter", times: 2 });
    const result = await f.driver.createNodes(request(2));
    expect(result.created).toHaveLength(2);
  });

  it("still fails when the cloud started nothing", async () => {
    const f = await start({ options: { max_attempts: "2" }, requestTimeoutMs: ANSWERED_TIMEOUT_MS });
    f.server.inject({ action: "RunInstances", kind: "drop", times: 2 });
    const err = await f.driver.createNodes(request(2)).catch((e: unknown) => e);
    expect(["CloudUnavailable", "Timeout"]).toContain((err as { code?: string }).code);
    expect(f.server.cloud.instances.size).toBe(0);
  });
});
