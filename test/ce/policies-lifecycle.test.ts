/** Boot timeout, fizzle backoff and stuck deletes, on the in-memory cloud with an injected clock. */

import { describe, expect, it } from "vitest";
import { harness, idOf, ok } from "./policy-harness.js";

describe("boot timeout (Instance_MaxBootSeconds)", () => {
  it("a VM booting longer reads Aborted, and cleanup removes it with reason boot-timeout", async () => {
    const h = await harness({ Instance_MaxBootSeconds: "600" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.advance(600);
    expect(ok(await h.ce.getJobStatus([ref!]))).toEqual({ [ref!]: "Waiting" });
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([]);
    h.advance(1);
    expect(ok(await h.ce.getJobStatus([ref!]))).toEqual({ [ref!]: "Aborted" });
    expect(ok(await h.ce.listPilots())[0]).toMatchObject({ ref, status: "Aborted" });
    const report = ok(await h.ce.cleanupPilots());
    expect(report.deleted).toEqual([expect.objectContaining({ ref, reason: "boot-timeout" })]);
    expect(h.cloud.nodes.size).toBe(0);
    expect(await h.decisions()).toEqual([
      expect.stringMatching(/^boot-timeout: still booting after Instance_MaxBootSeconds \(600 s\)/),
    ]);
  });

  it("applies to each VM from its own creation: a later VM still reads Waiting", async () => {
    const h = await harness({ Instance_MaxBootSeconds: "600" });
    const [old] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.advance(500);
    const [young] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.advance(200);
    expect(ok(await h.ce.getJobStatus([old!, young!]))).toEqual({ [old!]: "Aborted", [young!]: "Waiting" });
  });

  it("a VM that reached running is never timed out", async () => {
    const h = await harness({ Instance_MaxBootSeconds: "600" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "running");
    h.advance(7200);
    expect(ok(await h.ce.getJobStatus([ref!]))).toEqual({ [ref!]: "Running" });
  });

  it("is on by default at 3600 s, and off at 0", async () => {
    const on = await harness();
    const [a] = ok(await on.ce.submitJob(on.pilot, null, 1));
    on.advance(3601);
    expect(ok(await on.ce.getJobStatus([a!]))).toEqual({ [a!]: "Aborted" });
    const off = await harness({ Instance_MaxBootSeconds: "0" });
    const [b] = ok(await off.ce.submitJob(off.pilot, null, 1));
    off.advance(86_400);
    expect(ok(await off.ce.getJobStatus([b!]))).toEqual({ [b!]: "Waiting" });
    expect(ok(await off.ce.cleanupPilots()).deleted).toEqual([]);
    expect(await off.decisions()).toEqual([]);
  });
});

describe("fizzle backoff (Fizzle_Seconds, Fizzle_Count, Backoff_Seconds)", () => {
  const FIZZLE = { Fizzle_Seconds: "300", Fizzle_Count: "2", Backoff_Seconds: "900" };

  /** Starts `n` VMs, runs them for `seconds`, and powers them off. */
  async function runAndStop(h: Awaited<ReturnType<typeof harness>>, n: number, seconds: number): Promise<string[]> {
    const refs = ok(await h.ce.submitJob(h.pilot, null, n));
    for (const r of refs) h.cloud.setState(idOf(r), "running");
    h.advance(seconds);
    for (const r of refs) h.cloud.setState(idOf(r), "stopped");
    return refs;
  }

  it("when the last Fizzle_Count stopped VMs all fizzled, available() offers 0 slots for Backoff_Seconds and says why", async () => {
    const h = await harness(FIZZLE);
    await runAndStop(h, 2, 60);
    const r = await h.ce.available();
    expect(r).toMatchObject({ OK: true, Value: 0 });
    const info = r.OK ? r.CEInfoDict : undefined;
    expect(info?.Reason).toMatch(
      /^the last 2 VMs stopped within Fizzle_Seconds \(300 s\) of starting: no new VMs until 2026-06-01T12:16:00.000Z/,
    );
    expect(info?.BackoffUntil).toBe("2026-06-01T12:16:00.000Z");
    expect(
      h.logs.some(
        (l) =>
          l.level === "info" &&
          l.msg === "available: no slots" &&
          String(l.fields["reason"]).includes("Fizzle_Seconds"),
      ),
    ).toBe(true);
    expect((await h.decisions()).map((d) => d.split(":")[0])).toEqual(["fizzle", "fizzle", "backoff"]);
    const status = ok(await h.ce.getCEStatus());
    expect(status).toMatchObject({ BackoffUntil: "2026-06-01T12:16:00.000Z", CloudHealth: "ok" });
  });

  it("the backoff ends after Backoff_Seconds, and the same VMs do not start another", async () => {
    const h = await harness(FIZZLE);
    await runAndStop(h, 2, 60);
    expect(ok(await h.ce.available())).toBe(0);
    h.advance(899);
    expect(ok(await h.ce.available())).toBe(0);
    h.advance(1);
    expect(ok(await h.ce.available())).toBe(4);
    expect((await h.decisions()).filter((d) => d.startsWith("backoff"))).toHaveLength(1);
  });

  it("a VM that ran longer than Fizzle_Seconds breaks the run", async () => {
    const h = await harness(FIZZLE);
    await runAndStop(h, 1, 60);
    await h.ce.available();
    await runAndStop(h, 1, 301);
    expect(ok(await h.ce.available())).toBe(4);
    expect(await h.decisions()).toEqual([expect.stringMatching(/^fizzle: stopped 60 s after it started/)]);
  });

  it("orders by stop time and judges each VM once, however often it is listed", async () => {
    const h = await harness({ ...FIZZLE, Fizzle_Count: "3" });
    await runAndStop(h, 2, 10);
    for (let i = 0; i < 3; i++) expect(ok(await h.ce.available())).toBe(4);
    expect((await h.decisions()).filter((d) => d.startsWith("fizzle"))).toHaveLength(2);
  });

  it("is off by default: fizzling VMs change nothing", async () => {
    const h = await harness();
    await runAndStop(h, 4, 5);
    expect(ok(await h.ce.available())).toBe(4);
    expect(await h.decisions()).toEqual([]);
  });
});

describe("stuck deletes (Delete_VerifySeconds)", () => {
  it("a VM still listed Delete_VerifySeconds after cleanup deleted it is deleted again, counted and reported", async () => {
    const h = await harness({ Delete_VerifySeconds: "300" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.faults.destroyStuck = () => true;
    h.cloud.setState(idOf(ref!), "stopped");
    expect(ok(await h.ce.cleanupPilots()).deleted).toEqual([expect.objectContaining({ ref, reason: "stopped" })]);
    h.advance(299);
    const waiting = ok(await h.ce.cleanupPilots());
    expect(waiting).toEqual({ deleted: [], failed: [] });
    expect(h.calls("destroyNodes")).toBe(1);
    h.advance(1);
    const again = ok(await h.ce.cleanupPilots());
    expect(again.redeleted).toEqual([{ ref, name: expect.any(String), reason: "stopped", attempts: 1 }]);
    expect(h.calls("destroyNodes")).toBe(2);
    h.advance(300);
    expect(ok(await h.ce.cleanupPilots()).redeleted).toEqual([expect.objectContaining({ ref, attempts: 2 })]);
    expect(await h.decisions()).toEqual([
      expect.stringMatching(
        /^re-delete: still listed 300 s after it was deleted \(stopped; Delete_VerifySeconds 300\): deleted again, time 1$/,
      ),
      expect.stringMatching(/^re-delete: .* time 2$/),
    ]);
    expect(h.logs.filter((l) => l.msg === "policy: re-delete")).toHaveLength(2);
  });

  it("verifies kills too, and forgets a VM once the cloud no longer lists it", async () => {
    const h = await harness({ Delete_VerifySeconds: "300" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "running");
    h.cloud.faults.destroyStuck = () => true;
    ok(await h.ce.killJob([ref!]));
    h.advance(300);
    h.cloud.faults.destroyStuck = undefined;
    expect(ok(await h.ce.cleanupPilots()).redeleted).toEqual([
      expect.objectContaining({ ref, reason: "killed", attempts: 1 }),
    ]);
    h.advance(300);
    expect(ok(await h.ce.cleanupPilots())).toEqual({ deleted: [], failed: [] });
    expect(await h.decisions()).toHaveLength(1);
  });

  it("a later process (a one-shot cleanup from cron) verifies the deletes the journal records", async () => {
    const h = await harness({ Delete_VerifySeconds: "300" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.faults.destroyStuck = () => true;
    h.cloud.setState(idOf(ref!), "stopped");
    ok(await h.ce.cleanupPilots());
    await h.ce.shutdown();
    h.advance(300);
    const next = await h.another();
    expect(ok(await next.cleanupPilots()).redeleted).toEqual([
      expect.objectContaining({ ref, reason: "stopped", attempts: 1 }),
    ]);
    h.advance(300);
    const third = await h.another();
    expect(ok(await third.cleanupPilots()).redeleted).toEqual([expect.objectContaining({ ref, attempts: 2 })]);
  });

  it("off at 0: cleanup deletes a still-listed VM again each time, as before, with no re-delete records", async () => {
    const h = await harness({ Delete_VerifySeconds: "0" });
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.faults.destroyStuck = () => true;
    h.cloud.setState(idOf(ref!), "stopped");
    for (let i = 0; i < 3; i++) {
      expect(ok(await h.ce.cleanupPilots())).toEqual({
        deleted: [expect.objectContaining({ ref, reason: "stopped" })],
        failed: [],
      });
      h.advance(600);
    }
    expect(await h.decisions()).toEqual([]);
  });
});
