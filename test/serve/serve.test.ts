import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { METHODS } from "../../src/serve/methods.js";
import { MAX_LINE_BYTES, PROTOCOL_VERSION, RPC_ERRORS } from "../../src/serve/protocol.js";
import { registerSecret } from "../../src/secrets.js";
import { MemoryCloud } from "../../src/testing.js";
import { CLOUDCE_VERSION } from "../../src/version.js";
import { startServe, type RpcMessage, type ServeHarness } from "./harness.js";
import { until } from "../support/wait.js";

let dir: string;
let server: ServeHarness;
let cloud: MemoryCloud;
/** Milliseconds each create of the SERVE_SLOW driver takes. */
let createMs = 0;
/** Creates the SERVE_SLOW driver has begun. */
let createsStarted = 0;

registerDriver("SERVE_SLOW", () => {
  const driver: CloudDriver = cloud.driver();
  const create = driver.createNodes.bind(driver);
  return Object.assign(Object.create(driver) as CloudDriver, {
    createNodes: async (req: Parameters<CloudDriver["createNodes"]>[0]) => {
      createsStarted++;
      await new Promise((r) => setTimeout(r, createMs));
      return create(req);
    },
  });
});

const memoryOptions = {
  CloudType: "SERVE_SLOW",
  Instance_Image: "img",
  Instance_Flavor: "small",
  Submit_Concurrency: 1,
  Cloud_RequestTimeout: 1,
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-serve-"));
  await writeFile(join(dir, "pilot.sh"), "echo pilot\n");
  cloud = new MemoryCloud({
    images: [{ id: "img", name: "img" }],
    flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
  });
  createMs = 0;
  createsStarted = 0;
  server = startServe();
});

afterEach(async () => {
  await server.end();
  await rm(dir, { recursive: true, force: true });
});

async function openCe(options: Record<string, unknown> = memoryOptions): Promise<string> {
  const opened = await server.call("open", { ceName: "serve-test.cloud" });
  const handle = opened.result!["handle"] as string;
  expect((await server.call("setParameters", { handle, options })).result).toEqual({ OK: true, Value: null });
  return handle;
}

describe("handshake", () => {
  it("states the protocol version and every method", async () => {
    const hello = await server.call("handshake", { protocol: PROTOCOL_VERSION });
    expect(hello.result).toMatchObject({ protocol: 2, server: "cloudce test", pid: process.pid });
    expect(hello.result!["methods"]).toEqual(Object.keys(METHODS));
  });

  it("states its version, and accepts a plugin of the same major.minor", async () => {
    const [major, minor] = CLOUDCE_VERSION.split(".");
    const hello = await server.call("handshake", { protocol: 1, clientVersion: `${major}.${minor}.99` });
    expect(hello.result).toMatchObject({ version: CLOUDCE_VERSION });
  });

  it("refuses a plugin of another major.minor, naming both versions and what to upgrade", async () => {
    const hello = await server.call("handshake", { protocol: 1, clientVersion: "0.0.1" });
    expect(hello.error!.code).toBe(RPC_ERRORS.VersionMismatch);
    expect(hello.error!.message).toContain(`cloudce_dirac is 0.0.1 but`);
    expect(hello.error!.message).toContain(`is cloudce ${CLOUDCE_VERSION}`);
    expect(hello.error!.message).toContain(`upgrade the DIRAC plugin to ${CLOUDCE_VERSION}`);
  });

  it("refuses another protocol version with its own code", async () => {
    const hello = await server.call("handshake", { protocol: 3 });
    expect(hello.error!.code).toBe(RPC_ERRORS.UnsupportedProtocol);
    expect(hello.error!.message).toMatch(/protocol 3 is not supported: this server speaks protocol 2/);
  });

  it("still serves a protocol 1 client (one that sends no submission key)", async () => {
    expect((await server.call("handshake", { protocol: 1 })).result!["protocol"]).toBe(2);
  });
});

describe("malformed input gets a stable code and the server carries on", () => {
  it.each([
    ["not JSON", "{oops\n", null, RPC_ERRORS.ParseError],
    ["no method", '{"jsonrpc":"2.0","id":7}\n', 7, RPC_ERRORS.InvalidRequest],
    ["wrong version", '{"jsonrpc":"1.0","id":"x","method":"open"}\n', "x", RPC_ERRORS.InvalidRequest],
    ["a batch", '[{"jsonrpc":"2.0","id":1,"method":"open"}]\n', null, RPC_ERRORS.InvalidRequest],
    ["positional params", '{"jsonrpc":"2.0","id":8,"method":"open","params":["a"]}\n', 8, RPC_ERRORS.InvalidParams],
    ["unknown method", '{"jsonrpc":"2.0","id":9,"method":"submitJobs","params":{}}\n', 9, RPC_ERRORS.MethodNotFound],
  ])("%s", async (_what, line, id, code) => {
    server.sendRaw(line);
    const answer = await server.answer(id);
    expect(answer.error!.code).toBe(code);
    expect(answer.error!.message).not.toContain("\n");
    expect((await server.call("handshake", { protocol: PROTOCOL_VERSION })).result!["protocol"]).toBe(PROTOCOL_VERSION);
  });

  it("a missing or mistyped parameter is named", async () => {
    const handle = await openCe();
    const answer = await server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: "2" });
    expect(answer.error).toMatchObject({ code: RPC_ERRORS.InvalidParams, data: { param: "numberOfJobs" } });
  });

  it("an unknown or closed handle", async () => {
    const handle = await openCe();
    await server.call("close", { handle });
    const answer = await server.call("getCEStatus", { handle });
    expect(answer.error!.code).toBe(RPC_ERRORS.UnknownHandle);
  });

  it("a line over the size limit is skipped", async () => {
    server.sendRaw(`{"jsonrpc":"2.0","id":1,"method":"open","params":{"ceName":"${"x".repeat(MAX_LINE_BYTES)}"}}\n`);
    const answer = await server.answer(null);
    expect(answer.error!.code).toBe(RPC_ERRORS.InvalidRequest);
    expect(answer.error!.message).toMatch(/over the 16777216-byte limit/);
    expect((await server.call("handshake", { protocol: PROTOCOL_VERSION })).result!["protocol"]).toBe(PROTOCOL_VERSION);
  });
});

describe("CE calls", () => {
  it("a submit that made fewer pilots than asked passes on the CE's Partial note", async () => {
    cloud = new MemoryCloud({
      images: [{ id: "img", name: "img" }],
      flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
      instanceQuota: 2,
    });
    const handle = await openCe();
    const answer = await server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 3 });
    expect(answer.result).toMatchObject({ OK: true, Partial: "2 of 3 pilots created; 1 not: QuotaExceeded" });
    expect(answer.result!["Value"]).toHaveLength(2);
  });

  it("a failed operation is a DIRAC result whose code travels as Code, not as DIRAC's integer Errno", async () => {
    const opened = await server.call("open", { ceName: "bad.cloud" });
    const answer = await server.call("setParameters", {
      handle: opened.result!["handle"],
      options: { ...memoryOptions, MaxTotalJobs: "many" },
    });
    expect(answer.result).toMatchObject({ OK: false, Code: "OptionInvalid" });
    expect(answer.result!["Message"]).toMatch(/^MaxTotalJobs: /);
    expect(answer.result).not.toHaveProperty("Errno");
  });

  it("answers concurrent requests of several handles by id", async () => {
    const handles = await Promise.all([openCe(), openCe(), openCe()]);
    const calls = handles.flatMap((handle) => [
      server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 2 }),
      server.call("getCEStatus", { handle }),
    ]);
    const answers = await Promise.all(calls);
    const submits = answers.filter((_, i) => i % 2 === 0).map((a) => a.result!);
    for (const s of submits) expect((s["Value"] as string[]).length).toBe(2);
    const refs = new Set(submits.flatMap((s) => s["Value"] as string[]));
    expect(refs.size).toBe(6);
  });

  it("getJobOutput accepts DIRAC's <ref>:::<stamp>", async () => {
    const state = join(dir, "local");
    const handle = await openCe({
      CloudType: "LOCAL",
      Instance_Image: "local-el9",
      Instance_Flavor: "local.small",
      Driver_state_dir: state,
    });
    const submitted = (
      await server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 1 })
    ).result!;
    const ref = (submitted["Value"] as string[])[0]!;
    const stamp = (submitted["PilotStampDict"] as Record<string, string>)[ref]!;
    let output: RpcMessage["result"];
    // The LOCAL VM is a real process: wait for its console.
    await until(async () => {
      output = (await server.call("getJobOutput", { handle, ref: `${ref}:::${stamp}` })).result;
      return String((output!["Value"] as string[])[0]).includes("pilot");
    }, "the pilot's console");
    expect(output).toMatchObject({ OK: true, Value: [expect.stringContaining("pilot"), ""] });
    await server.call("killJob", { handle, refs: [ref] });
  });

  it("log lines become notifications once the client asks, and stay off stderr", async () => {
    await server.call("handshake", { protocol: 1, logs: "notify" });
    const handle = await openCe();
    await server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 1 });
    const logs = server.notifications().filter((n) => n.method === "log");
    expect(
      logs.some(
        (n) =>
          n.params!["msg"] === "pilot VM created" &&
          (n.params!["fields"] as Record<string, string>)["ce"] === "serve-test.cloud",
      ),
    ).toBe(true);
    expect(server.stderr()).toBe("");
  });
});

describe("submitJob deadline and stdin EOF", () => {
  it("a submission past its deadline returns what it created, with Interrupted", async () => {
    createMs = 150;
    const handle = await openCe();
    const answer = await server.call("submitJob", {
      handle,
      executableFile: join(dir, "pilot.sh"),
      numberOfJobs: 6,
      deadline: 0.2,
    });
    const refs = answer.result!["Value"] as string[];
    expect(answer.result!["OK"]).toBe(true);
    expect(answer.result!["Interrupted"]).toMatch(/of 6 pilots created/);
    expect(refs.length).toBeGreaterThanOrEqual(1);
    expect(refs.length).toBeLessThan(6);
    // Nothing on the cloud that the answer does not account for.
    expect(cloud.nodes.size).toBe(refs.length);
  });

  it("a deadline beyond what a timer holds (about 24.8 days) means no early stop, not an instant one", async () => {
    createMs = 20;
    const handle = await openCe();
    const answer = await server.call("submitJob", {
      handle,
      executableFile: join(dir, "pilot.sh"),
      numberOfJobs: 3,
      deadline: 30 * 86400,
    });
    expect(answer.result!["OK"]).toBe(true);
    expect(answer.result!["Interrupted"]).toBeUndefined();
    expect(answer.result!["Value"] as string[]).toHaveLength(3);
  });

  it("on EOF a submission in flight stops starting VMs, is answered, and every handle closes", async () => {
    createMs = 100;
    const handle = await openCe();
    const pending = server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 50 });
    await until(() => cloud.nodes.size > 0, "a VM on the cloud");
    const end = server.end();
    const answer = await pending;
    expect(await end).toBe("eof");
    expect(answer.result!["OK"]).toBe(true);
    expect(answer.result!["Interrupted"]).toBeTruthy();
    expect(cloud.nodes.size).toBe((answer.result!["Value"] as string[]).length);
    expect(cloud.nodes.size).toBeLessThan(50);
  });
});

describe("close", () => {
  it("waits for the calls still running on the handle, and refuses new ones at once", async () => {
    createMs = 300;
    const handle = await openCe();
    const submitting = server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 2 });
    await until(() => createsStarted === 1, "the first create to start");
    const closing = server.call("close", { handle });
    const refused = await server.call("getCEStatus", { handle });
    expect(refused.error?.code).toBe(RPC_ERRORS.UnknownHandle);
    const submitted = await submitting;
    expect(submitted.result!["OK"]).toBe(true);
    expect(submitted.result!["Value"] as string[]).toHaveLength(2);
    expect(submitted.result!["Interrupted"]).toBeUndefined();
    expect((await closing).result).toEqual({});
    expect(cloud.nodes.size).toBe(2);
  });
});

describe("the drain at stdin EOF", () => {
  // A stopped submission is bounded by one Cloud_RequestTimeout from the stop (plus the answer's
  // trip); a fixed drain shorter than that would exit under a create the cloud may still make.
  it("by default waits as long as the largest Cloud_RequestTimeout of the open handles", async () => {
    await server.end();
    server = startServe({ drainMarginMs: 0 });
    createMs = 1_500;
    const quick = await openCe({ ...memoryOptions, Cloud_RequestTimeout: 1 });
    expect((await server.call("getCEStatus", { handle: quick })).result!["OK"]).toBe(true); // its timeout now counts
    const slow = await openCe({ ...memoryOptions, Cloud_RequestTimeout: 4 });
    const pending = server.call("submitJob", { handle: slow, executableFile: join(dir, "pilot.sh"), numberOfJobs: 1 });
    await until(() => createsStarted === 1, "the first create to start");
    const end = server.end();
    const answer = await Promise.race([pending, end.then(() => undefined)]);
    await end;
    expect(answer?.result?.["OK"]).toBe(true);
    expect(answer?.result?.["Value"] as string[]).toHaveLength(1);
    expect(cloud.nodes.size).toBe(1);
  });

  it("an explicit drain is kept even when a request runs longer", async () => {
    await server.end();
    server = startServe({ drainMs: 100 });
    createMs = 1_500;
    const handle = await openCe({ ...memoryOptions, Cloud_RequestTimeout: 4 });
    void server.call("submitJob", { handle, executableFile: join(dir, "pilot.sh"), numberOfJobs: 1 });
    await until(() => createsStarted === 1, "the first create to start");
    expect(await server.end()).toBe("eof");
    expect(server.stderr()).toMatch(/requests still running at exit/);
  });
});

describe("unexpected failures", () => {
  it("answers -32603 with secrets scrubbed from the message", async () => {
    registerSecret("s3cr3t-serve-token");
    const spy = vi
      .spyOn(METHODS as Record<string, (typeof METHODS)[string]>, "getDescription")
      .mockImplementation(async () => {
        throw new Error("backend said s3cr3t-serve-token");
      });
    try {
      const answer = await server.call("getDescription", { handle: "h" });
      expect(answer.error!.code).toBe(RPC_ERRORS.InternalError);
      expect(answer.error!.message).not.toContain("s3cr3t-serve-token");
      expect(server.stderr()).not.toContain("s3cr3t-serve-token");
    } finally {
      spy.mockRestore();
    }
  });
});
