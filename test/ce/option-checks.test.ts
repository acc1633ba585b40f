import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CloudComputingElement, createLogger, type LogRecord } from "../../src/index.js";

async function localCe(records: LogRecord[] = []): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement("opts.example.org", {
    logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
  });
  const dir = await mkdtemp(join(tmpdir(), "cloudce-opts-"));
  const set = await ce.setParameters({
    CloudType: "LOCAL",
    Instance_Image: "name:el9-pilot",
    Instance_Flavor: "small",
    Driver_state_dir: dir,
  });
  expect(set.OK).toBe(true);
  return ce;
}

describe("misspelt options", () => {
  it.each([
    ["Instance_Flavour", "did you mean Instance_Flavor?"],
    ["Context_MaxLifeTime", "did you mean Context_MaxLifetime?"],
    ["MaxWaitingjobs", "did you mean MaxWaitingJobs?"],
    ["Submit_Concurency", "did you mean Submit_Concurrency?"],
    ["Cloud_Timeout", "not a cloudce option (the Cloud_* options are"],
    ["Instance_Colour", "not a cloudce option (the Instance_* options are"],
  ])("isValid refuses %s naming it (%s)", async (name, hint) => {
    const ce = await localCe();
    await ce.setParameters({ [name]: "1" });
    const v = await ce.isValid();
    expect(v.OK).toBe(false);
    expect(v.OK ? "" : v.Message).toContain(`${name}: `);
    expect(v.OK ? "" : v.Message).toContain(hint);
    await ce.shutdown();
  });

  it("setParameters accepts them with one warning each", async () => {
    const records: LogRecord[] = [];
    const ce = await localCe(records);
    const set = await ce.setParameters({ Context_MaxLifeTime: "86400" });
    expect(set.OK).toBe(true);
    const warnings = records.filter((r) => r.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(`${warnings[0]!.msg} ${JSON.stringify(warnings[0]!.fields)}`).toContain("did you mean Context_MaxLifetime?");
    await ce.shutdown();
  });

  it("stays silent about DIRAC's own CE and queue options", async () => {
    const records: LogRecord[] = [];
    const ce = await localCe(records);
    await ce.setParameters({
      CEType: "Cloud",
      MaxCPUTime: "1000",
      Tag: "MultiProcessor",
      SI00: "2500",
      Platform: "x",
      WaitingToRunningRatio: "0.5",
      NumberOfProcessors: "4",
      QueueName: "q",
    });
    expect(records.filter((r) => r.level === "warn")).toEqual([]);
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    await ce.shutdown();
  });
});

describe("strict booleans", () => {
  it("Context_DisableMetadata = flase is an error, not true", async () => {
    const ce = await localCe();
    const set = await ce.setParameters({ Context_DisableMetadata: "flase" });
    expect(set).toMatchObject({ OK: false, Code: "OptionInvalid" });
    expect(set.OK ? "" : set.Message).toContain("Context_DisableMetadata: 'flase' is not a boolean");
    await ce.shutdown();
  });

  it.each(["True", "no", "1", "FALSE"])("accepts %s", async (word) => {
    const ce = await localCe();
    expect((await ce.setParameters({ Context_DisableMetadata: word })).OK).toBe(true);
    await ce.shutdown();
  });
});

describe("setParameters and malformed values", () => {
  it("refuses a malformed integer and does not store it", async () => {
    const ce = await localCe();
    const bad = await ce.setParameters({ MaxTotalJobs: "ten" });
    expect(bad.OK).toBe(false);
    expect(ce.getParameters()["MaxTotalJobs"]).toBeUndefined();
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    await ce.shutdown();
  });
});

describe("isValid", () => {
  it("still checks Driver_* options when mandatory options are missing", async () => {
    const ce = new CloudComputingElement("opts.example.org", { logger: createLogger({ level: "silent" }) });
    await ce.setParameters({ CloudType: "LOCAL", Driver_stat_dir: "/tmp/x" });
    const v = await ce.isValid();
    expect(v.OK ? "" : v.Message).toContain("Instance_Image: mandatory option is missing");
    expect(v.OK ? "" : v.Message).toContain("Driver_stat_dir");
  });
});
