/**
 * A cleanup right after a status operation of the same CE object judges that
 * operation's listing (Cleanup_ListingMaxAge) instead of listing again, as
 * SiteDirector's cycle calls them: on the in-memory cloud, counting listings,
 * with an injected clock.
 */

import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { readJournal } from "../../src/ops/journal.js";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { BASE, type Harness, harness, idOf, ok } from "./policy-harness.js";

/** Submits `n` pilots and stops the first: the cleanup's one candidate. */
async function withStopped(h: Harness, n = 3): Promise<string[]> {
  const refs = ok(await h.ce.submitJob(h.pilot, null, n));
  for (const r of refs) h.cloud.setState(idOf(r), "running");
  h.cloud.setState(idOf(refs[0]!), "stopped");
  return refs;
}

/** Listings the cloud answers while `work` runs. */
async function listingsDuring(h: Harness, work: () => Promise<unknown>): Promise<number> {
  const before = h.calls("listNodes");
  await work();
  return h.calls("listNodes") - before;
}

describe("cleanup after a status operation of the same CE object", () => {
  it("makes no listing of its own and deletes what the status listing shows", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    expect(await listingsDuring(h, () => h.ce.getJobStatus(refs))).toBe(1);
    let report: unknown;
    expect(await listingsDuring(h, async () => (report = ok(await h.ce.cleanupPilots())))).toBe(0);
    expect(report).toEqual({ deleted: [expect.objectContaining({ ref: refs[0], reason: "stopped" })], failed: [] });
    expect([...h.cloud.nodes.keys()].sort()).toEqual(refs.slice(1).map(idOf).sort());
    expect(h.logs.some((l) => l.msg === "cleanup judges the last status listing")).toBe(true);
  });

  it("reuses the listing of getCEStatus, available() and listPilots too", async () => {
    const h = await harness();
    await withStopped(h);
    for (const status of [() => h.ce.getCEStatus(), () => h.ce.available(), () => h.ce.listPilots()]) {
      await status();
      expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(0);
    }
  });

  it("lists again once the status listing is Cleanup_ListingMaxAge old", async () => {
    const h = await harness({ Cleanup_ListingMaxAge: "30" });
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    h.advance(29);
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(0);
    await h.ce.getJobStatus(refs);
    h.advance(30);
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(1);
  });

  it("keeps a listing two minutes by default, as SiteDirector cleans its queues one after another", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    h.advance(119);
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(0);
    await h.ce.getJobStatus(refs);
    h.advance(120);
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(1);
  });

  it("always lists with Cleanup_ListingMaxAge 0", async () => {
    const h = await harness({ Cleanup_ListingMaxAge: "0" });
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    let report: unknown;
    expect(await listingsDuring(h, async () => (report = ok(await h.ce.cleanupPilots())))).toBe(1);
    expect(report).toMatchObject({ deleted: [expect.objectContaining({ ref: refs[0] })] });
  });

  it("lists again after a kill, a submit or new options of the object since the status listing", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    const between = [
      () => h.ce.killJob([refs[1]!]),
      () => h.ce.submitJob(h.pilot, null, 1),
      () => h.ce.setParameters({ Cleanup_MinLifetime: "0" }),
    ];
    for (const change of between) {
      await h.ce.getJobStatus(refs);
      await change();
      expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(1);
    }
  });

  it("uses a listing once: a second cleanup in a row lists", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(0);
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(1);
  });

  it("never keeps a failed listing: the cleanup lists, and deletes from its own listing", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    await h.ce.killJob([refs[2]!]);
    h.cloud.faults.listFailure = new CloudceError("CloudUnavailable", "the cloud is down");
    expect(ok(await h.ce.getJobStatus(refs))).toEqual(Object.fromEntries(refs.map((r) => [r, "Unknown"])));
    h.cloud.faults = {};
    let report: unknown;
    expect(await listingsDuring(h, async () => (report = ok(await h.ce.cleanupPilots())))).toBe(1);
    expect(report).toMatchObject({ deleted: [expect.objectContaining({ ref: refs[0], reason: "stopped" })] });
  });

  it("judges as of the listing: a VM that passes Context_MaxLifetime after it is left to the next cleanup", async () => {
    const h = await harness({ Context_MaxLifetime: "600" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "running");
    h.advance(590);
    await h.ce.getJobStatus([ref!]);
    h.advance(20);
    expect(ok(await h.ce.cleanupPilots())).toEqual({ deleted: [], failed: [] });
    expect(h.cloud.nodes.size).toBe(1);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([expect.objectContaining({ ref, reason: "expired" })]);
  });

  it("leaves a VM that stopped after the listing to the next cleanup", async () => {
    const h = await harness();
    const refs = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(refs[0]!), "running");
    await h.ce.getJobStatus(refs);
    h.cloud.setState(idOf(refs[0]!), "stopped");
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([]);
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([expect.objectContaining({ ref: refs[0] })]);
  });

  it("reports a VM the cloud removed after the listing as gone", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    h.cloud.nodes.delete(idOf(refs[0]!));
    const report = ok(await h.ce.cleanupPilots());
    expect(report).toEqual({ deleted: [], failed: [], gone: [expect.objectContaining({ ref: refs[0] })] });
  });

  it("sends no delete for a VM another CE object of the journal deleted after the listing", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    await (await h.another()).killJob([refs[0]!]);
    const deletes = h.calls("destroyNodes");
    expect(ok(await h.ce.cleanupPilots())).toEqual({ deleted: [], failed: [] });
    expect(h.calls("destroyNodes")).toBe(deletes);
  });

  for (const verify of ["60", "0"])
    it(`after earlier cycles too, sends no delete for a VM another CE object deleted after the listing (Delete_VerifySeconds ${verify})`, async () => {
      const h = await harness({ Delete_VerifySeconds: verify });
      const refs = await withStopped(h);
      h.cloud.setState(idOf(refs[0]!), "running");
      await h.ce.getJobStatus(refs);
      expect(ok(await h.ce.cleanupPilots())).toEqual({ deleted: [], failed: [] });
      h.advance(60);
      h.cloud.setState(idOf(refs[0]!), "stopped");
      await h.ce.getJobStatus(refs);
      h.advance(1);
      // As on Nova: the delete is accepted and the server stays listed, `deleting`, for a while.
      h.cloud.faults.destroyStuck = (id) => id === idOf(refs[0]!);
      await (await h.another()).killJob([refs[0]!]);
      const deletes = h.calls("destroyNodes");
      h.advance(1);
      expect(ok(await h.ce.cleanupPilots())).toEqual({ deleted: [], failed: [] });
      expect(h.calls("destroyNodes")).toBe(deletes);
      const lines = (await readJournal(h.journal)).entries.filter((e) => e.ref === refs[0] && e.action === "delete");
      expect(lines.map((e) => e.outcome)).toEqual(["ok"]);
    });

  it("a dry run lists afresh and leaves the status listing to the cleanup after it", async () => {
    const h = await harness();
    const refs = await withStopped(h);
    await h.ce.getJobStatus(refs);
    h.cloud.setState(idOf(refs[1]!), "stopped");
    let dry: unknown;
    expect(await listingsDuring(h, async () => (dry = ok(await h.ce.cleanupPilots({ dryRun: true }))))).toBe(1);
    expect(dry).toMatchObject({ wouldDelete: [expect.anything(), expect.anything()] });
    expect(await listingsDuring(h, () => h.ce.cleanupPilots())).toBe(0);
  });

  it("rejects a Cleanup_ListingMaxAge out of bounds, naming the option and its range", async () => {
    const h = await harness();
    for (const bad of ["601", "-1", "soon"])
      expect(await h.ce.setParameters({ Cleanup_ListingMaxAge: bad })).toMatchObject({
        OK: false,
        Message: expect.stringMatching(/^Cleanup_ListingMaxAge: .*from 0 to 600/),
      });
  });
});

describe("cleanups of several queues, one judging a kept listing", () => {
  /** Another queue's CE object of the harness's CE (same cloud, journal and clock). */
  async function queue(h: Harness, name: string): Promise<CloudComputingElement> {
    const ce = new CloudComputingElement("ce-policy.example.org", { logger: silentLogger, now: () => h.now() });
    ok(await ce.setParameters({ ...BASE, Journal_File: h.journal, Queue: name, Cleanup_ForeignSeconds: "600" }));
    return ce;
  }

  for (const verify of ["60", "0"])
    it(`a removed queue's VM that queue a deleted after queue b's listing is deleted and journaled once (Delete_VerifySeconds ${verify})`, async () => {
      const h = await harness({ Queue: "a", Cleanup_ForeignSeconds: "600", Delete_VerifySeconds: verify });
      const [b, removed] = [await queue(h, "b"), await queue(h, "c")];
      const [orphan] = ok(await removed.submitJob(h.pilot, null, 1));
      h.cloud.setState(idOf(orphan!), "stopped");
      // An earlier cycle of both queues: nothing due yet.
      for (const ce of [h.ce, b]) expect(ok(await ce.cleanupPilots()).deleted).toEqual([]);
      h.advance(600);
      await b.getJobStatus([]);
      // Nova accepts the delete and lists the server, `deleting`, a while longer.
      h.cloud.faults.destroyStuck = (id) => id === idOf(orphan!);
      expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([expect.objectContaining({ ref: orphan, queue: "c" })]);
      const sent = h.calls("destroyNodes");
      expect(ok(await b.cleanupPilots())).toEqual({ deleted: [], failed: [] });
      expect(h.calls("destroyNodes")).toBe(sent);
      const lines = (await readJournal(h.journal)).entries.filter((e) => e.ref === orphan && e.action === "delete");
      expect(lines.map((e) => [e.queue, e.outcome])).toEqual([["a", "ok"]]);
    });
});
