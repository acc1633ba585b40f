import { describe, expect, it } from "vitest";
import type { Instance } from "@aws-sdk/client-ec2";
import { toCloudNode, wasInterrupted } from "../../src/drivers/ec2/state-map.js";

const instance = (state: string, extra: Partial<Instance> = {}): Instance => ({
  InstanceId: "i-0123456789abcdef0",
  State: { Name: state as never },
  LaunchTime: new Date("2026-01-01T00:00:00Z"),
  Tags: [
    { Key: "Name", Value: "CE_01234567" },
    { Key: "cloudce-ce", Value: "ce" },
  ],
  ...extra,
});

describe("EC2 state map", () => {
  it("maps every EC2 state", () => {
    const map = Object.fromEntries(
      ["pending", "running", "stopping", "shutting-down", "stopped", "terminated", "rebooting?"].map((s) => [
        s,
        toCloudNode(instance(s)).state,
      ]),
    );
    expect(map).toEqual({
      pending: "booting",
      running: "running",
      stopping: "stopping",
      "shutting-down": "stopping",
      stopped: "stopped",
      terminated: "gone",
      "rebooting?": "unknown",
    });
  });

  it("takes the name from the Name tag and the other tags as metadata", () => {
    expect(toCloudNode(instance("running"))).toMatchObject({
      id: "i-0123456789abcdef0",
      name: "CE_01234567",
      metadata: { "cloudce-ce": "ce" },
      cloudState: "running",
    });
    expect(toCloudNode(instance("running")).metadata).not.toHaveProperty("Name");
  });

  it("marks only VMs the cloud reclaimed as interrupted", () => {
    const reason = (Code: string) => ({ StateReason: { Code, Message: Code } });
    expect(wasInterrupted(instance("terminated", reason("Server.SpotInstanceTermination")))).toBe(true);
    expect(wasInterrupted(instance("stopped", reason("Server.SpotInstanceShutdown")))).toBe(true);
    expect(
      wasInterrupted(instance("terminated", { InstanceLifecycle: "spot", ...reason("Server.InternalError") })),
    ).toBe(true);
    expect(
      wasInterrupted(instance("terminated", { InstanceLifecycle: "spot", ...reason("Client.UserInitiatedShutdown") })),
    ).toBe(false);
    expect(
      wasInterrupted(
        instance("terminated", { InstanceLifecycle: "spot", ...reason("Client.InstanceInitiatedShutdown") }),
      ),
    ).toBe(false);
    expect(wasInterrupted(instance("terminated", reason("Server.InternalError")))).toBe(false);
    expect(wasInterrupted(instance("running", { InstanceLifecycle: "spot" }))).toBe(false);
    expect(toCloudNode(instance("running")).interrupted).toBeUndefined();
  });
});

describe("EC2 stop times", () => {
  it("a pilot that powered off and was terminated for it (shutdown behaviour terminate) has its stop time", () => {
    const node = toCloudNode(
      instance("terminated", {
        StateReason: { Code: "Client.InstanceInitiatedShutdown", Message: "Client.InstanceInitiatedShutdown" },
        StateTransitionReason: "Client.InstanceInitiatedShutdown (2026-01-01 00:00:30 GMT)",
      }),
    );
    expect(node).toMatchObject({ state: "gone", finished: true, stoppedAt: new Date("2026-01-01T00:00:30Z") });
  });
});
