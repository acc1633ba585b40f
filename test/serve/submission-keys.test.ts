/**
 * Submission keys (docs/serve-protocol.md, "Submission keys"): every VM of a
 * keyed submitJob carries the key, a key is never used to create twice, and
 * recoverSubmission answers with the submission's VMs and stamps, in this
 * server (a live or finished key) or in a new one (from the cloud's tags).
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { BATCH_KEY } from "../../src/ce/ownership.js";
import { RECOVERED_BY_KEY } from "../../src/ce/submission-key.js";
import { readJournal } from "../../src/ops/journal.js";
import { RPC_ERRORS } from "../../src/serve/protocol.js";
import { MemoryCloud } from "../../src/testing.js";
import { startServe, type RpcMessage, type ServeHarness } from "./harness.js";
import { HANG_GUARD_MS } from "../support/wait.js";

let dir: string;
let cloud: MemoryCloud;
let servers: ServeHarness[];
/** Creates begun so far; the create numbered `gateAt` (from 1) and later ones wait for their gate. */
let createsStarted = 0;
let gateAt = Infinity;
/** The create numbered `holdAnswerAt` makes its VM, then holds its answer until the gates open. */
let holdAnswerAt = Infinity;
let gates: (() => void)[] = [];
let startWaiters: (() => void)[] = [];

registerDriver("SERVE_GATED", () => {
  const driver: CloudDriver = cloud.driver();
  const create = driver.createNodes.bind(driver);
  return Object.assign(Object.create(driver) as CloudDriver, {
    createNodes: async (req: CreateNodesRequest) => {
      const n = ++createsStarted;
      for (const w of startWaiters.splice(0)) w();
      if (n >= gateAt) await new Promise<void>((open) => gates.push(open));
      const made = await create(req);
      if (n === holdAnswerAt) await new Promise<void>((open) => gates.push(open));
      return made;
    },
  });
});

const options = {
  CloudType: "SERVE_GATED",
  Instance_Image: "img",
  Instance_Flavor: "small",
  Submit_Concurrency: 1,
  Cloud_RequestTimeout: 5,
};
const KEY = "0123456789abcdef0123456789abcdef";

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-keys-"));
  await writeFile(join(dir, "pilot.sh"), "echo pilot\n");
  cloud = new MemoryCloud({
    images: [{ id: "img", name: "img" }],
    flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
  });
  servers = [];
  createsStarted = 0;
  gateAt = Infinity;
  holdAnswerAt = Infinity;
  gates = [];
  startWaiters = [];
});

const openGates = (): void => {
  gateAt = Infinity;
  holdAnswerAt = Infinity;
  for (const open of gates.splice(0)) open();
};

afterEach(async () => {
  openGates();
  await Promise.all(servers.map((s) => s.end()));
  await rm(dir, { recursive: true, force: true });
});

/** A server (a serve child) with one open, configured CE handle. */
async function child(
  ceName = "keys.cloud",
  extra: Record<string, unknown> = {},
): Promise<{ server: ServeHarness; handle: string }> {
  const server = startServe();
  servers.push(server);
  const handle = (await server.call("open", { ceName })).result!["handle"] as string;
  expect((await server.call("setParameters", { handle, options: { ...options, ...extra } })).result).toMatchObject({
    OK: true,
  });
  return { server, handle };
}

const submit = (
  s: ServeHarness,
  handle: string,
  numberOfJobs: number,
  submission: unknown = KEY,
): Promise<RpcMessage> =>
  s.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs, submission });

const untilCreatesStarted = (n: number): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => (createsStarted >= n ? resolve() : void startWaiters.push(check));
    check();
  });

/** The server logs the stop of a live submission when a recovery of its key arrives. */
const recoveryReceived = (s: ServeHarness): Promise<void> =>
  vi.waitFor(() => expect(s.stderr()).toMatch(/recovery asked while it runs: stopping it/), {
    timeout: HANG_GUARD_MS,
    interval: 20,
  });

const refsOf = (m: RpcMessage): string[] => m.result!["Value"] as string[];
const stampsOf = (m: RpcMessage): Record<string, string> => m.result!["PilotStampDict"] as Record<string, string>;

describe("a keyed submitJob", () => {
  it("tags every VM of the submission with its key", async () => {
    const { server, handle } = await child();
    const answer = await submit(server, handle, 3);
    expect(refsOf(answer)).toHaveLength(3);
    const keys = [...cloud.nodes.values()].map((e) => e.node.metadata[BATCH_KEY]);
    expect(keys).toEqual([KEY, KEY, KEY]);
  });

  it("sent again with a finished key creates nothing and answers the same pilots", async () => {
    const { server, handle } = await child();
    const first = await submit(server, handle, 2);
    const again = await submit(server, handle, 2);
    expect(cloud.nodes.size).toBe(2);
    expect(again.result).toMatchObject({ OK: true, Value: refsOf(first), PilotStampDict: stampsOf(first) });
  });

  it("sent to a new server while the key's VMs exist creates nothing and answers them with their stamps", async () => {
    const a = await child();
    const first = await submit(a.server, a.handle, 3);
    const b = await child();
    const again = await submit(b.server, b.handle, 3);
    expect(cloud.nodes.size).toBe(3);
    expect(again.result).toMatchObject({ OK: true, PilotStampDict: stampsOf(first) });
    expect(new Set(refsOf(again))).toEqual(new Set(refsOf(first)));
    expect(again.result!["Recovered"]).toMatch(/3 pilot VMs/);
  });

  it("sent twice at once creates once: the second waits for the first's answer", async () => {
    gateAt = 1;
    const { server, handle } = await child();
    const first = submit(server, handle, 2);
    await untilCreatesStarted(1);
    const second = submit(server, handle, 2);
    openGates();
    const [a, b] = await Promise.all([first, second]);
    expect(cloud.nodes.size).toBe(2);
    expect(createsStarted).toBe(2);
    expect(b.result).toMatchObject({ OK: true, Value: refsOf(a) });
  });

  it.each([
    ["too short", "abc"],
    ["upper case", "0123456789ABCDEF0123"],
    ["a number", 12345678],
    ["over 64 characters", "a".repeat(65)],
  ])("refuses a key that is %s, naming the parameter", async (_what, key) => {
    const { server, handle } = await child();
    const answer = await submit(server, handle, 1, key);
    expect(answer.error).toMatchObject({ code: RPC_ERRORS.InvalidParams, data: { param: "submission" } });
    expect(cloud.nodes.size).toBe(0);
  });

  it("refuses a key another CE used", async () => {
    const a = await child("one.cloud");
    await submit(a.server, a.handle, 1);
    const opened = (await a.server.call("open", { ceName: "two.cloud" })).result!["handle"] as string;
    await a.server.call("setParameters", { handle: opened, options });
    const answer = await submit(a.server, opened, 1);
    expect(answer.error).toMatchObject({ code: RPC_ERRORS.InvalidParams, data: { param: "submission" } });
    expect(cloud.nodes.size).toBe(1);
  });

  it("without a key creates as protocol 1 did", async () => {
    const { server, handle } = await child();
    const answer = await server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 2 });
    expect(refsOf(answer)).toHaveLength(2);
    expect(cloud.nodes.size).toBe(2);
  });
});

describe("recoverSubmission", () => {
  it("in a new server returns the VMs a lost server made, with their stamps, and the key never creates again", async () => {
    const a = await child();
    const made = await submit(a.server, a.handle, 4);
    const b = await child();
    const recovered = await b.server.call("recoverSubmission", { handle: b.handle, submission: KEY });
    expect(recovered.result).toMatchObject({ OK: true, PilotStampDict: stampsOf(made) });
    expect(new Set(refsOf(recovered))).toEqual(new Set(refsOf(made)));
    await submit(b.server, b.handle, 4);
    expect(cloud.nodes.size).toBe(4);
  });

  it("derives each stamp of a uniform batch from the VM's seed tag", async () => {
    cloud = new MemoryCloud({
      images: [{ id: "img", name: "img" }],
      flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
      capabilities: { uniformBatch: true },
    });
    const a = await child();
    const made = await submit(a.server, a.handle, 3);
    const b = await child();
    const recovered = await b.server.call("recoverSubmission", { handle: b.handle, submission: KEY });
    expect(recovered.result!["PilotStampDict"]).toEqual(stampsOf(made));
  });

  it("of a key no VM carries answers no pilot, and a later submitJob with that key creates nothing", async () => {
    const { server, handle } = await child();
    const recovered = await server.call("recoverSubmission", { handle, submission: KEY });
    expect(recovered.result).toMatchObject({ OK: true, Value: [], PilotStampDict: {} });
    const late = await submit(server, handle, 2);
    expect(late.result).toMatchObject({ OK: true, Value: [] });
    expect(cloud.nodes.size).toBe(0);
  });

  it("of a live key stops the submission from starting VMs and answers what it made", async () => {
    gateAt = 2;
    const { server, handle } = await child();
    const running = submit(server, handle, 10);
    await untilCreatesStarted(2);
    const recovering = server.call("recoverSubmission", { handle, submission: KEY });
    // The create already begun is let through once the recovery has stopped the submission.
    await recoveryReceived(server);
    openGates();
    const [submitted, recovered] = await Promise.all([running, recovering]);
    expect(createsStarted).toBe(2);
    expect(cloud.nodes.size).toBe(createsStarted);
    expect(new Set(refsOf(recovered))).toEqual(new Set([...cloud.nodes.keys()].map((id) => `cloud://${id}`)));
    expect(refsOf(submitted)).toEqual(refsOf(recovered));
    expect(recovered.result!["Interrupted"]).toMatch(/of 10 pilots created/);
  });

  it("of a live key also returns a VM whose create was abandoned in flight but landed", async () => {
    holdAnswerAt = 2;
    const { server, handle } = await child("keys.cloud", { Cloud_RequestTimeout: 1 });
    const running = submit(server, handle, 5);
    await untilCreatesStarted(2);
    const recovered = await server.call("recoverSubmission", { handle, submission: KEY });
    const onCloud = [...cloud.nodes.keys()].map((id) => `cloud://${id}`);
    expect(onCloud).toHaveLength(2);
    expect(new Set(refsOf(recovered))).toEqual(new Set(onCloud));
    expect(Object.keys(stampsOf(recovered)).sort()).toEqual([...onCloud].sort());
    openGates();
    await running;
  });

  it("journals the creates a lost server made but never journaled, once", async () => {
    const journal = join(dir, "journal.jsonl");
    const a = await child("keys.cloud", { Journal_File: journal });
    const made = await submit(a.server, a.handle, 2);
    // A third VM of the submission whose create answer, and journal line, died with its server.
    const [one] = [...cloud.nodes.values()];
    const late = await cloud.driver().createNodes({
      imageId: "img",
      flavorId: "small",
      networkIds: [],
      requestId: "late",
      nodes: [
        {
          name: "VMDIRAC3_0000LATE",
          userData: new Uint8Array(),
          metadata: { ...one!.node.metadata, "cloudce-stamp": "f".repeat(32) },
        },
      ],
    });
    const lateRef = `cloud://${late.created[0]!.id}`;
    for (const ceChild of [
      await child("keys.cloud", { Journal_File: journal }),
      await child("keys.cloud", { Journal_File: journal }),
    ]) {
      const recovered = await ceChild.server.call("recoverSubmission", { handle: ceChild.handle, submission: KEY });
      expect(new Set(refsOf(recovered))).toEqual(new Set([...refsOf(made), lateRef]));
    }
    const creates = (await readJournal(journal)).entries.filter((e) => e.action === "create" && e.outcome === "ok");
    expect(creates.map((e) => e.ref).sort()).toEqual([...refsOf(made), lateRef].sort());
    expect(creates.find((e) => e.ref === lateRef)).toMatchObject({ stamp: "f".repeat(32), reason: RECOVERED_BY_KEY });
  });

  it("refuses a malformed key", async () => {
    const { server, handle } = await child();
    const answer = await server.call("recoverSubmission", { handle, submission: "no spaces allowed" });
    expect(answer.error).toMatchObject({ code: RPC_ERRORS.InvalidParams, data: { param: "submission" } });
  });
});
