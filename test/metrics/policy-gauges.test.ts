/** The gauges the alert rules read: VMs past their lifetime, fizzle backoff, credential expiry, cleanup passes. */

import { describe, expect, it } from "vitest";
import { metricsRegistry, recordCleanupPass } from "../../src/metrics/ce-metrics.js";
import { Registry } from "prom-client";
import { harness, idOf, ok } from "../ce/policy-harness.js";

const CE = "ce-policy.example.org";

async function gauge(
  name: string,
  registry: Registry = metricsRegistry,
  labels: Record<string, string> = { ce: CE },
): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name) as
    | { values: { value: number; labels: Record<string, string> }[] }
    | undefined;
  return metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

describe("policy gauges", () => {
  it("counts VMs older than Context_MaxLifetime at each listing, by the CE's clock", async () => {
    const h = await harness({ Context_MaxLifetime: "600", Cleanup_MinLifetime: "60" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "running");
    ok(await h.ce.listPilots());
    expect(await gauge("cloudce_vms_over_lifetime")).toBe(0);
    h.advance(700);
    ok(await h.ce.listPilots());
    expect(await gauge("cloudce_vms_over_lifetime")).toBe(1);
  });

  it("says when a fizzle backoff is on, and when the breaker is not open", async () => {
    const h = await harness({ Fizzle_Seconds: "300", Fizzle_Count: "2", Backoff_Seconds: "900" });
    ok(await h.ce.available());
    expect(await gauge("cloudce_fizzle_backoff")).toBe(0);
    const refs = ok(await h.ce.submitJob(h.pilot, null, 2));
    for (const r of refs) h.cloud.setState(idOf(r), "running");
    h.advance(60);
    for (const r of refs) h.cloud.setState(idOf(r), "stopped");
    expect(ok(await h.ce.available())).toBe(0);
    expect(await gauge("cloudce_fizzle_backoff")).toBe(1);
    expect(await gauge("cloudce_cloud_circuit_open")).toBe(0);
  });

  it("a cleanup pass that succeeded sets its time; a failed one leaves the last success", async () => {
    const registry = new Registry();
    recordCleanupPass(registry, "loop.example.org", { succeeded: true, intervalSeconds: 600, at: new Date(1_000_000) });
    recordCleanupPass(registry, "loop.example.org", { succeeded: false, at: new Date(2_000_000) });
    expect(await gauge("cloudce_cleanup_last_success_timestamp_seconds", registry, { ce: "loop.example.org" })).toBe(
      1000,
    );
    expect(await gauge("cloudce_cleanup_interval_seconds", registry, { ce: "loop.example.org" })).toBe(600);
  });
});
