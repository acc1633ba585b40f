/**
 * A submission is bounded: a count beyond one submission's bound is refused at
 * once, user-data is rendered as each create starts (never all of it before
 * the first), and the first certain quota or capacity refusal ends the
 * remaining creates on that flavor.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { MAX_PILOTS_PER_SUBMIT } from "../../src/ce/cloud-computing-element.js";
import { parseSettings } from "../../src/ce/ce-options.js";
import { planSubmission, type SubmissionInput } from "../../src/ce/submit.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { createLogger, silentLogger, type LogRecord } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

let dir: string;
let pilot: string;
let cloud: MemoryCloud;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-bounds-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
  registerDriver("MEMORY_BOUNDS", () => cloud.driver());
});

async function makeCe(options: Record<string, string> = {}, records?: LogRecord[]): Promise<CloudComputingElement> {
  const logger = records ? createLogger({ level: "debug", sink: (r) => records.push(r) }) : silentLogger;
  const ce = new CloudComputingElement("bounds.example.org", { logger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_BOUNDS",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Cloud_RateLimit: "0",
    ...options,
  });
  expect(set.OK).toBe(true);
  return ce;
}

describe("a submission's count", () => {
  it("a count beyond one submission's bound is refused at once, naming the bound", async () => {
    cloud = new MemoryCloud();
    const ce = await makeCe();
    const r = await ce.submitJob(pilot, null, 1_000_000_000);
    expect(r.OK).toBe(false);
    expect(r.OK ? "" : r.Message).toBe(
      `numberOfJobs: 1000000000 is more than one submission creates (${MAX_PILOTS_PER_SUBMIT}); submit the rest in further calls`,
    );
    expect(cloud.nodes.size).toBe(0);
    await ce.shutdown();
  });

  it("renders one pilot's user-data before any cloud call, the others as their creates start", () => {
    let renders = 0;
    const settings = parseSettings("bounds.example.org", {
      CloudType: "MEMORY_BOUNDS",
      Instance_Image: "name:pilot-image",
      Instance_Flavor: "name:small",
    });
    const input = {
      settings,
      executable: "echo pilot",
      count: MAX_PILOTS_PER_SUBMIT,
      logger: silentLogger,
      renderer: {
        render: () => {
          renders++;
          return "#cloud-config\n";
        },
      },
      driver: { capabilities: { userData: { maxBytes: 65_536, gzip: false, base64: false } } },
    } as unknown as SubmissionInput;
    const plan = planSubmission(input);
    expect(renders).toBe(1);
    const a = plan.next();
    const b = plan.next();
    expect(renders).toBe(2);
    expect(a.name).not.toBe(b.name);
  });
});

describe("quota reached during a submission", () => {
  it("the first certain quota refusal ends the remaining creates on that flavor", async () => {
    cloud = new MemoryCloud({ instanceQuota: 5 });
    const records: LogRecord[] = [];
    const ce = await makeCe({ Submit_Concurrency: "2" }, records);
    const r = await ce.submitJob(pilot, null, 500);
    expect(r.OK).toBe(true);
    expect(r.OK ? r.Value : []).toHaveLength(5);
    // Five creates that worked, and at most one refusal per create in flight when the first came back.
    expect(cloud.calls["createNodes"]).toBeLessThanOrEqual(5 + 2);
    expect(records.filter((l) => l.msg === "failed to create pilot VM").length).toBeLessThanOrEqual(2);
    const notTried = records.map((l) => l.msg).filter((m) => /remaining creates not tried/.test(m));
    expect(notTried).toHaveLength(1);
    expect(notTried[0]).toMatch(/^49[3-5] remaining creates not tried/);
    await ce.shutdown();
  });
});
