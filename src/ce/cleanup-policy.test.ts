import { describe, expect, it } from "vitest";
import type { CloudNode, NodeState } from "../drivers/driver.js";
import { selectForCleanup } from "./cleanup-policy.js";

const now = new Date("2026-11-22T12:00:00Z");
const node = (id: string, state: NodeState, ageSeconds: number): CloudNode => ({
  id,
  name: `VM_${id}`,
  state,
  cloudState: state,
  createdAt: new Date(now.getTime() - ageSeconds * 1000),
  metadata: {},
});

describe("cleanup policy", () => {
  it("picks stopped, error and over-age VMs, with the reason", () => {
    const nodes = [
      node("a", "stopped", 60),
      node("b", "error", 60),
      node("c", "running", 5000),
      node("d", "running", 60),
      node("e", "booting", 10),
      node("f", "gone", 9999),
    ];
    expect(selectForCleanup(nodes, { maxLifetime: 3600, minLifetime: 0 }, now)).toEqual([
      { ref: "cloud://a", name: "VM_a", reason: "stopped" },
      { ref: "cloud://b", name: "VM_b", reason: "error" },
      { ref: "cloud://c", name: "VM_c", reason: "expired" },
    ]);
  });

  it("keeps stopped VMs younger than the minimum lifetime, but never past the maximum", () => {
    const nodes = [node("young", "stopped", 30), node("old", "stopped", 700)];
    expect(selectForCleanup(nodes, { maxLifetime: 600, minLifetime: 60 }, now).map((e) => [e.ref, e.reason])).toEqual([
      ["cloud://old", "expired"],
    ]);
  });
});
