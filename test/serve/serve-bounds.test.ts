/** One submitJob with a huge numberOfJobs cannot take the server down: it is refused, and every other handle goes on. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_PILOTS_PER_SUBMIT } from "../../src/ce/cloud-computing-element.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { MemoryCloud } from "../../src/testing.js";
import { startServe, type ServeHarness } from "./harness.js";

let dir: string;
let server: ServeHarness;
let cloud: MemoryCloud;

registerDriver("SERVE_BOUNDS", () => cloud.driver());
const options = { CloudType: "SERVE_BOUNDS", Instance_Image: "img", Instance_Flavor: "small", Cloud_RateLimit: 0 };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-serve-bounds-"));
  await writeFile(join(dir, "pilot.sh"), "echo pilot\n");
  cloud = new MemoryCloud({
    images: [{ id: "img", name: "img" }],
    flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
  });
  server = startServe();
});

afterEach(async () => {
  await server.end();
  await rm(dir, { recursive: true, force: true });
});

async function open(ceName: string): Promise<string> {
  const handle = (await server.call("open", { ceName })).result!["handle"] as string;
  expect((await server.call("setParameters", { handle, options })).result).toEqual({ OK: true, Value: null });
  return handle;
}

describe("a huge numberOfJobs", () => {
  it("is refused with the bound, renders nothing, and the other handles' work goes on", async () => {
    const [greedy, other] = [await open("greedy.cloud"), await open("other.cloud")];
    const [huge, normal] = await Promise.all([
      server.call("submitJob", { handle: greedy, executableFile: join(dir, "pilot.sh"), numberOfJobs: 1_000_000_000 }),
      server.call("submitJob", { handle: other, executableFile: join(dir, "pilot.sh"), numberOfJobs: 2 }),
    ]);
    expect(huge.result).toMatchObject({
      OK: false,
      Message: expect.stringContaining(`more than one submission creates (${MAX_PILOTS_PER_SUBMIT})`),
    });
    expect(normal.result).toMatchObject({ OK: true, Value: [expect.any(String), expect.any(String)] });
    expect(cloud.nodes.size).toBe(2);
    const status = await server.call("getJobStatus", { handle: other, refs: normal.result!["Value"] as string[] });
    expect(status.result).toMatchObject({ OK: true });
  });
});
