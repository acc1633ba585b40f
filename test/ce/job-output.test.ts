/** getJobOutput reads only this CE's VMs: another CE's console (which may hold its pilot's secrets) is refused. */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

let cloud: MemoryCloud;
let pilot: string;

async function ceWith(
  name: string,
  n: number,
  extra: Record<string, string> = {},
): Promise<{ ce: CloudComputingElement; refs: string[] }> {
  const ce = new CloudComputingElement(name, { logger: silentLogger });
  await ce.setParameters({
    CloudType: "MEMORY_OUT",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Instance_Networks: "name:private",
    Cloud_RateLimit: "0",
    ...extra,
  });
  const r = await ce.submitJob(pilot, null, n);
  if (!r.OK) throw new Error(r.Message);
  return { ce, refs: r.Value };
}

beforeAll(async () => {
  registerDriver("MEMORY_OUT", () => cloud.driver());
  const dir = await mkdtemp(join(tmpdir(), "cloudce-out-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

describe("getJobOutput", () => {
  it("reads this CE's VM and refuses another CE's without calling the console", async () => {
    cloud = new MemoryCloud({ autoBoot: true });
    const a = await ceWith("ce-a.example.org", 1);
    const b = await ceWith("ce-b.example.org", 1);
    expect((await a.ce.getJobOutput(a.refs[0]!)).OK).toBe(true);
    const consoles = cloud.calls["getConsoleOutput"] ?? 0;
    expect(await a.ce.getJobOutput(b.refs[0]!)).toMatchObject({
      OK: false,
      Message: expect.stringContaining("belongs to another CE"),
    });
    expect(cloud.calls["getConsoleOutput"] ?? 0).toBe(consoles);
  });

  it("names a VM the cloud does not know", async () => {
    cloud = new MemoryCloud({ autoBoot: true });
    const a = await ceWith("ce-a.example.org", 1);
    expect(await a.ce.getJobOutput("cloud://no-such-vm")).toMatchObject({ OK: false, Code: "NodeNotFound" });
  });

  it("refuses another CE's VM even when adopting untagged VMs", async () => {
    cloud = new MemoryCloud({ autoBoot: true });
    const a = await ceWith("ce-a.example.org", 1, { Ownership_AdoptUntagged: "yes" });
    const b = await ceWith("ce-b.example.org", 1);
    const consoles = cloud.calls["getConsoleOutput"] ?? 0;
    expect(await a.ce.getJobOutput(b.refs[0]!)).toMatchObject({ OK: false, Code: "Forbidden" });
    expect(cloud.calls["getConsoleOutput"] ?? 0).toBe(consoles);
  });

  it("reads a pilot that finished on its own and was removed by the cloud (EC2 terminate)", async () => {
    cloud = new MemoryCloud({ autoBoot: true });
    const a = await ceWith("ce-a.example.org", 1);
    const id = a.refs[0]!.replace(/^.*:\/\//, "").replace(/:::.*$/, "");
    cloud.setState(id, "gone", { finished: true });
    expect(await a.ce.getJobOutput(a.refs[0]!)).toMatchObject({ OK: true });
  });
});
