/**
 * Several queues of one CE, each its own CE object (as SiteDirector builds
 * them): slots, status and metrics count the queue's own VMs; cleanup
 * removes the queue's own VMs by its own options, another queue's only
 * once that queue had Cleanup_ForeignSeconds to do it; two cleanups at once
 * never both report one VM deleted.
 */

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { createLogger } from "../../src/log.js";
import { openJournal, readJournal } from "../../src/ops/journal.js";
import { BASE, harness, idOf, ok, type Harness } from "./policy-harness.js";

/** Queue `b` of the harness's CE, with its own options (same cloud, journal and clock). */
async function queueB(
  h: Harness,
  options: Record<string, string> = {},
  metrics: Registry | null = null,
): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement("ce-policy.example.org", {
    logger: createLogger({ level: "error" }),
    now: () => h.now(),
    metrics,
  });
  expect(await ce.setParameters({ ...BASE, Journal_File: h.journal, Queue: "b", ...options })).toEqual({
    OK: true,
    Value: null,
  });
  return ce;
}

async function deletes(h: Harness): Promise<{ ref: string; outcome: string; queue: string; reason: string }[]> {
  return (await readJournal(h.journal)).entries
    .filter((e) => e.action === "delete")
    .map((e) => ({ ref: e.ref, outcome: e.outcome, queue: e.queue, reason: e.reason }));
}

describe("a queue counts its own VMs", () => {
  it("available() and getCEStatus() ignore another queue's booting VMs", async () => {
    const h = await harness({ Queue: "a", MaxTotalJobs: "5", MaxWaitingJobs: "5" });
    const b = await queueB(h, { MaxTotalJobs: "5", MaxWaitingJobs: "5" });
    ok(await b.submitJob(h.pilot, null, 5));
    expect(ok(await h.ce.available())).toBe(5);
    const status = await h.ce.getCEStatus();
    expect(status).toMatchObject({ OK: true, WaitingJobs: 0, RunningJobs: 0 });
    expect(ok(await b.available())).toBe(0);
    expect(await b.getCEStatus()).toMatchObject({ WaitingJobs: 5 });
  });

  it("the cloudce_vms gauge of a queue counts that queue's VMs only", async () => {
    const h = await harness({ Queue: "a" });
    const registry = new Registry();
    const b = await queueB(h, {}, registry);
    const a = await h.another();
    ok(await a.submitJob(h.pilot, null, 3));
    ok(await b.submitJob(h.pilot, null, 2));
    ok(await b.getCEStatus());
    const gauge = (await registry.getSingleMetric("cloudce_vms")!.get()).values;
    const waiting = gauge.filter((v) => v.labels["status"] === "Waiting");
    expect(waiting).toEqual([expect.objectContaining({ labels: expect.objectContaining({ queue: "b" }), value: 2 })]);
  });
});

describe("a queue's cleanup", () => {
  it("removes its own stopped VM and leaves another queue's stopped VM to that queue", async () => {
    const h = await harness({ Queue: "a" });
    const b = await queueB(h);
    const [mine] = ok(await h.ce.submitJob(h.pilot, null, 1));
    const [theirs] = ok(await b.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(mine!), "stopped");
    h.cloud.setState(idOf(theirs!), "stopped");
    const report = ok(await h.ce.cleanupPilots());
    expect(report.deleted.map((e) => e.ref)).toEqual([mine]);
    // Queue b reads its pilot Done, then its own cleanup removes it.
    expect(ok(await b.getJobStatus([theirs!]))).toEqual({ [theirs!]: "Done" });
    expect(ok(await b.cleanupPilots()).deleted.map((e) => e.ref)).toEqual([theirs]);
  });

  it("judges age by its own Context_MaxLifetime: a short-lived queue never expires a long-lived queue's pilot", async () => {
    const h = await harness({ Queue: "a", Context_MaxLifetime: "120" });
    const b = await queueB(h, { Context_MaxLifetime: "3600" });
    const [mine] = ok(await h.ce.submitJob(h.pilot, null, 1));
    const [theirs] = ok(await b.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(mine!), "running");
    h.cloud.setState(idOf(theirs!), "running");
    h.advance(121);
    const report = ok(await h.ce.cleanupPilots());
    expect(report.deleted).toEqual([expect.objectContaining({ ref: mine, reason: "expired" })]);
    expect(ok(await b.getJobStatus([theirs!]))).toEqual({ [theirs!]: "Running" });
  });

  it("removes another queue's stopped VM once it has been stopped Cleanup_ForeignSeconds, and says whose it was", async () => {
    const h = await harness({ Queue: "a", Cleanup_ForeignSeconds: "600" });
    const gone = await queueB(h); // a queue since removed from the configuration
    const [orphan] = ok(await gone.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(orphan!), "stopped");
    h.advance(599);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([]);
    h.advance(1);
    const report = ok(await h.ce.cleanupPilots());
    expect(report.deleted).toEqual([expect.objectContaining({ ref: orphan, reason: "stopped", queue: "b" })]);
    expect(await deletes(h)).toEqual([
      {
        ref: orphan,
        outcome: "ok",
        queue: "a",
        reason: expect.stringMatching(/^stopped: a VM of queue 'b'.*Cleanup_ForeignSeconds/),
      },
    ]);
  });

  it("keeps another queue's stopped VM for that queue's Cleanup_MinLifetime, which the VM carries", async () => {
    const h = await harness({ Queue: "a", Cleanup_ForeignSeconds: "600" });
    const b = await queueB(h, { Cleanup_MinLifetime: "7200" });
    const [theirs] = ok(await b.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(theirs!), "stopped");
    h.advance(7799);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([]);
    h.advance(1);
    expect(ok(await h.ce.cleanupPilots()).deleted.map((e) => e.ref)).toEqual([theirs]);
  });

  it("expires another queue's running VM only past that VM's own lifetime plus Cleanup_ForeignSeconds", async () => {
    const h = await harness({ Queue: "a", Context_MaxLifetime: "120", Cleanup_ForeignSeconds: "600" });
    const b = await queueB(h, { Context_MaxLifetime: "3600" });
    const [theirs] = ok(await b.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(theirs!), "running");
    h.advance(3600 + 599);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([]);
    h.advance(2);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([
      expect.objectContaining({ ref: theirs, reason: "expired", queue: "b" }),
    ]);
  });

  it("removes a VM with no queue tag by its own options plus Cleanup_ForeignSeconds (no leak)", async () => {
    const h = await harness({ Queue: "a", Context_MaxLifetime: "1000", Cleanup_ForeignSeconds: "600" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    const entry = h.cloud.nodes.get(idOf(ref!))!;
    const { ["cloudce-queue"]: _q, ["cloudce-lifetime"]: _l, ["cloudce-keep"]: _k, ...untagged } = entry.node.metadata;
    entry.node = { ...entry.node, metadata: untagged };
    h.cloud.setState(idOf(ref!), "running");
    h.advance(1599);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([]);
    h.advance(2);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([
      expect.objectContaining({ ref, reason: "expired", queue: "" }),
    ]);
  });

  it("rejects a Cleanup_ForeignSeconds out of bounds, naming the option", async () => {
    const ce = new CloudComputingElement("x", { metrics: null });
    const r = await ce.setParameters({ ...BASE, Cleanup_ForeignSeconds: "99999999" });
    expect(r).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^Cleanup_ForeignSeconds: .*from 60 to 2592000/),
    });
    expect(await ce.setParameters({ ...BASE, Cleanup_ForeignSeconds: "10" })).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/Cleanup_ForeignSeconds/),
    });
  });
});

describe("cleanups at once", () => {
  it("two cleanups of one queue running together report each VM deleted once; the journal holds one delete per VM", async () => {
    const h = await harness({ Queue: "a" });
    const other = await h.another();
    const refs = ok(await h.ce.submitJob(h.pilot, null, 6));
    for (const r of refs) h.cloud.setState(idOf(r), "stopped");
    const [one, two] = await Promise.all([h.ce.cleanupPilots(), other.cleanupPilots()]);
    const reported = [...ok(one).deleted, ...ok(two).deleted].map((e) => e.ref).sort();
    expect(reported).toEqual([...refs].sort());
    const journaled = await deletes(h);
    expect(journaled.map((e) => e.ref).sort()).toEqual([...refs].sort());
    expect(journaled.every((e) => e.outcome === "ok")).toBe(true);
  });

  it("a delete that found the VM already gone is reported and journaled as such, not as deleted", async () => {
    const h = await harness({ Queue: "a" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "stopped");
    // Another host's cleanup deletes it between this cleanup's listing and its delete.
    h.cloud.faults = { vanishBeforeDestroy: (id) => id === idOf(ref!) };
    const report = ok(await h.ce.cleanupPilots());
    expect(report.deleted).toEqual([]);
    expect(report.gone).toEqual([expect.objectContaining({ ref, reason: "stopped" })]);
    expect(await deletes(h)).toEqual([
      { ref, outcome: "gone", queue: "a", reason: expect.stringMatching(/^stopped: already gone/) },
    ]);
  });
});

describe("a finished pilot reads Done to its queue", () => {
  it("after the queue's own cleanup removed its stopped VM", async () => {
    const h = await harness({ Queue: "a" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "stopped");
    expect(ok(await h.ce.cleanupPilots()).deleted.map((e) => e.ref)).toEqual([ref]);
    expect(ok(await h.ce.getJobStatus([ref!]))).toEqual({ [ref!]: "Done" });
  });

  it("after another process's cleanup removed it: from the journal; a VM vanishing before its journal line reads Unknown once", async () => {
    const h = await harness({ Queue: "a" });
    const other = await h.another(); // the same queue in another SiteDirector process
    const [early, racing, lost] = ok(await h.ce.submitJob(h.pilot, null, 3));
    for (const r of [early!, racing!, lost!]) h.cloud.setState(idOf(r), "running");
    expect(ok(await other.getJobStatus([early!, racing!, lost!]))).toEqual({
      [early!]: "Running",
      [racing!]: "Running",
      [lost!]: "Running",
    });
    h.cloud.setState(idOf(early!), "stopped");
    expect(ok(await h.ce.cleanupPilots()).deleted.map((e) => e.ref)).toEqual([early]);
    // Another host is deleting these two: gone from the listing, its journal lines not written yet.
    h.cloud.nodes.delete(idOf(racing!));
    h.cloud.nodes.delete(idOf(lost!));
    expect(ok(await other.getJobStatus([early!, racing!, lost!]))).toEqual({
      [early!]: "Done",
      [racing!]: "Unknown",
      [lost!]: "Unknown",
    });
    await openJournal({ path: h.journal }).append({
      ce: "ce-policy.example.org",
      queue: "a",
      ref: racing!,
      vmName: "",
      stamp: "",
      action: "delete",
      outcome: "ok",
      reason: "stopped",
    });
    expect(ok(await other.getJobStatus([racing!, lost!]))).toEqual({ [racing!]: "Done", [lost!]: "Deleted" });
  });
});
