import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { memoryCe, ok } from "./memory-ce.js";

// The CE's view of its pilots (getJobStatus, getCEStatus) and the slots it offers (available), on the memory cloud.

const env = memoryCe();

describe("getJobStatus, getCEStatus and available", () => {
  it("maps every VM state with one listing for all references", async () => {
    const ce = await env.makeCe();
    const refs = ok(await ce.submitJob(env.pilot, null, 6));
    const ids = refs.map((r) => r.slice("cloud://".length));
    env.cloud.setState(ids[1]!, "running");
    env.cloud.setState(ids[2]!, "stopped");
    env.cloud.setState(ids[3]!, "error");
    env.cloud.setState(ids[4]!, "running", { interrupted: true });
    env.cloud.nodes.delete(ids[5]!);
    const before = env.cloud.calls["listNodes"] ?? 0;
    expect(ok(await ce.getJobStatus(refs))).toEqual({
      [refs[0]!]: "Waiting",
      [refs[1]!]: "Running",
      [refs[2]!]: "Done",
      [refs[3]!]: "Aborted",
      [refs[4]!]: "Aborted",
      [refs[5]!]: "Deleted",
    });
    expect(env.cloud.calls["listNodes"]).toBe(before + 1);
  });

  it("says Unknown when the cloud cannot be reached", async () => {
    const ce = await env.makeCe();
    const refs = ok(await ce.submitJob(env.pilot, null, 2));
    env.cloud.faults.listFailure = new CloudceError("CloudUnavailable", "connection refused");
    expect(ok(await ce.getJobStatus(refs))).toEqual({ [refs[0]!]: "Unknown", [refs[1]!]: "Unknown" });
  });

  it("rejects references that are not cloud://", async () => {
    expect(await (await env.makeCe()).getJobStatus(["cloud://x", "12345"])).toMatchObject({
      OK: false,
      Message: "not cloud://<instance-id> pilot references: '12345'",
      Code: "InvalidReference",
    });
  });

  it("counts only this CE's VMs and follows DIRAC's slot rule", async () => {
    const a = await env.makeCe("ce-a");
    const b = await env.makeCe("ce-b");
    const refs = ok(await a.submitJob(env.pilot, null, 3));
    ok(await b.submitJob(env.pilot, null, 5));
    env.cloud.setState(refs[0]!.slice(8), "running");
    expect(await a.getCEStatus()).toMatchObject({ OK: true, RunningJobs: 1, WaitingJobs: 2, SubmittedJobs: 3 });
    const avail = await a.available();
    expect(avail).toMatchObject({
      OK: true,
      Value: 2,
      CEInfoDict: { MaxTotalJobs: 10, MaxWaitingJobs: 4, RunningJobs: 1, WaitingJobs: 2 },
    });
  });

  it("offers no slot while the newest VM is younger than Submit_WaveDelay", async () => {
    const ce = await env.makeCe("ce-w", { Submit_WaveDelay: "600" });
    expect(await ce.available()).toMatchObject({ OK: true, Value: 4 });
    const [ref] = ok(await ce.submitJob(env.pilot, null, 1));
    expect(await ce.available()).toMatchObject({ OK: true, Value: 0 });
    env.cloud.setState(ref!.slice(8), "booting", { createdAt: new Date(Date.now() - 601_000) });
    expect(await ce.available()).toMatchObject({ OK: true, Value: 3 });
  });

  it("never offers more slots than the cloud project can start", async () => {
    env.useCloud({ instanceQuota: 3 });
    const ce = await env.makeCe();
    ok(await ce.submitJob(env.pilot, null, 2));
    expect(await ce.available()).toMatchObject({ OK: true, Value: 1, CEInfoDict: { CloudCapacity: 1 } });
  });
});
