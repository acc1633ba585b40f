import { describe, expect, it } from "vitest";
import type { CloudNode } from "../drivers/driver.js";
import { FizzlePolicy } from "./fizzle-policy.js";

const T0 = Date.parse("2026-06-01T12:00:00Z");
const node = (id: string, extra: Partial<CloudNode>): CloudNode => ({
  id,
  name: `CE_${id}`,
  state: "gone",
  cloudState: "terminated",
  createdAt: new Date(T0),
  launchedAt: new Date(T0),
  metadata: {},
  ...extra,
});

describe("fizzle backoff on clouds that remove a VM when it powers off", () => {
  it("counts VMs gone because they finished (EC2 shutdown behaviour terminate) as stops", () => {
    const policy = new FizzlePolicy({ fizzleSeconds: 60, fizzleCount: 2, backoffSeconds: 600 });
    const fizzled = [1, 2].map((i) => node(`i-${i}`, { finished: true, stoppedAt: new Date(T0 + 10_000 * i) }));
    const decisions = policy.observe(fizzled, T0 + 30_000);
    expect(decisions.map((d) => d.decision)).toEqual(["fizzle", "fizzle", "backoff"]);
    expect(policy.active(T0 + 30_000)).toBeDefined();
  });

  it("does not judge VMs gone because they were deleted", () => {
    const policy = new FizzlePolicy({ fizzleSeconds: 60, fizzleCount: 1, backoffSeconds: 600 });
    expect(policy.observe([node("i-1", { stoppedAt: new Date(T0 + 5000) })], T0 + 30_000)).toEqual([]);
  });
});
