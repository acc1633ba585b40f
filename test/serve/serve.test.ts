// cloudce serve: the handshake, malformed input, CE calls and unexpected failures.

import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { METHODS } from "../../src/serve/methods.js";
import { MAX_LINE_BYTES, PROTOCOL_VERSION, RPC_ERRORS } from "../../src/serve/protocol.js";
import { registerSecret } from "../../src/secrets.js";
import { MemoryCloud } from "../../src/testing.js";
import { CLOUDCE_VERSION } from "../../src/version.js";
import type { RpcMessage } from "./harness.js";
import { memoryOptions, serveSetup } from "./serve-setup.js";
import { until } from "../support/wait.js";

const t = serveSetup();

describe("handshake", () => {
  it("states the protocol version and every method", async () => {
    const hello = await t.server.call("handshake", { protocol: PROTOCOL_VERSION });
    expect(hello.result).toMatchObject({ protocol: 3, server: "cloudce test", pid: process.pid });
    expect(hello.result!["methods"]).toEqual(Object.keys(METHODS));
  });

  it("states its version, and accepts a plugin of the same major.minor", async () => {
    const [major, minor] = CLOUDCE_VERSION.split(".");
    const hello = await t.server.call("handshake", { protocol: 1, clientVersion: `${major}.${minor}.99` });
    expect(hello.result).toMatchObject({ version: CLOUDCE_VERSION });
  });

  it("refuses a plugin of another major.minor, naming both versions and what to upgrade", async () => {
    const hello = await t.server.call("handshake", { protocol: 1, clientVersion: "0.0.1" });
    expect(hello.error!.code).toBe(RPC_ERRORS.VersionMismatch);
    expect(hello.error!.message).toContain(`cloudce_dirac is 0.0.1 but`);
    expect(hello.error!.message).toContain(`is cloudce ${CLOUDCE_VERSION}`);
    expect(hello.error!.message).toContain(`upgrade the DIRAC plugin to ${CLOUDCE_VERSION}`);
  });

  it("refuses another protocol version with its own code", async () => {
    const hello = await t.server.call("handshake", { protocol: 4 });
    expect(hello.error!.code).toBe(RPC_ERRORS.UnsupportedProtocol);
    expect(hello.error!.message).toMatch(/protocol 4 is not supported: this server speaks protocol 3/);
  });

  it.each([1, 2, 3])(
    "serves a protocol %i client (1: no submission key; 2: no Retryable; 3: this one)",
    async (protocol) => {
      const hello = await t.server.call("handshake", { protocol, clientVersion: CLOUDCE_VERSION });
      expect(hello.result).toMatchObject({ protocol: 3, version: CLOUDCE_VERSION });
      const opened = await t.server.call("open", { ceName: `protocol-${protocol}.cloud` });
      expect(opened.result!["handle"]).toEqual(expect.any(String));
    },
  );
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
    t.server.sendRaw(line);
    const answer = await t.server.answer(id);
    expect(answer.error!.code).toBe(code);
    expect(answer.error!.message).not.toContain("\n");
    expect((await t.server.call("handshake", { protocol: PROTOCOL_VERSION })).result!["protocol"]).toBe(
      PROTOCOL_VERSION,
    );
  });

  it("a missing or mistyped parameter is named", async () => {
    const handle = await t.openCe();
    const answer = await t.server.call("submitJob", {
      handle,
      executableFile: join(t.dir, "pilot.sh"),
      numberOfJobs: "2",
    });
    expect(answer.error).toMatchObject({ code: RPC_ERRORS.InvalidParams, data: { param: "numberOfJobs" } });
  });

  it("an unknown or closed handle", async () => {
    const handle = await t.openCe();
    await t.server.call("close", { handle });
    const answer = await t.server.call("getCEStatus", { handle });
    expect(answer.error!.code).toBe(RPC_ERRORS.UnknownHandle);
  });

  it("a line over the size limit is skipped", async () => {
    t.server.sendRaw(`{"jsonrpc":"2.0","id":1,"method":"open","params":{"ceName":"${"x".repeat(MAX_LINE_BYTES)}"}}\n`);
    const answer = await t.server.answer(null);
    expect(answer.error!.code).toBe(RPC_ERRORS.InvalidRequest);
    expect(answer.error!.message).toMatch(/over the 16777216-byte limit/);
    expect((await t.server.call("handshake", { protocol: PROTOCOL_VERSION })).result!["protocol"]).toBe(
      PROTOCOL_VERSION,
    );
  });
});

describe("CE calls", () => {
  it("a submit that made fewer pilots than asked passes on the CE's Partial note", async () => {
    t.cloud = new MemoryCloud({
      images: [{ id: "img", name: "img" }],
      flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
      instanceQuota: 2,
    });
    const handle = await t.openCe();
    const answer = await t.server.call("submitJob", {
      handle,
      executableFile: join(t.dir, "pilot.sh"),
      numberOfJobs: 3,
    });
    expect(answer.result).toMatchObject({ OK: true, Partial: "2 of 3 pilots created; 1 not: QuotaExceeded" });
    expect(answer.result!["Value"]).toHaveLength(2);
  });

  it("a failed operation is a DIRAC result whose code travels as Code, not as DIRAC's integer Errno", async () => {
    const opened = await t.server.call("open", { ceName: "bad.cloud" });
    const answer = await t.server.call("setParameters", {
      handle: opened.result!["handle"],
      options: { ...memoryOptions, MaxTotalJobs: "many" },
    });
    expect(answer.result).toMatchObject({ OK: false, Code: "OptionInvalid" });
    expect(answer.result!["Message"]).toMatch(/^MaxTotalJobs: /);
    expect(answer.result).not.toHaveProperty("Errno");
  });

  it("a failure the cloud may get over says Retryable and which driver it came from (protocol 3)", async () => {
    const handle = await t.openCe();
    t.cloud.faults.listFailure = new CloudceError("RateLimited", "memory: slow down", { driver: "MEMORY" });
    const answer = await t.server.call("getCEStatus", { handle });
    expect(answer.result).toEqual({
      OK: false,
      Message: expect.stringContaining("memory: slow down"),
      Code: "RateLimited",
      Retryable: true,
      Driver: "MEMORY",
    });
  });

  it("answers concurrent requests of several handles by id", async () => {
    const handles = await Promise.all([t.openCe(), t.openCe(), t.openCe()]);
    const calls = handles.flatMap((handle) => [
      t.server.call("submitJob", { handle, executableFile: join(t.dir, "pilot.sh"), numberOfJobs: 2 }),
      t.server.call("getCEStatus", { handle }),
    ]);
    const answers = await Promise.all(calls);
    const submits = answers.filter((_, i) => i % 2 === 0).map((a) => a.result!);
    for (const s of submits) expect((s["Value"] as string[]).length).toBe(2);
    const refs = new Set(submits.flatMap((s) => s["Value"] as string[]));
    expect(refs.size).toBe(6);
  });

  it("getJobOutput accepts DIRAC's <ref>:::<stamp>", async () => {
    const state = join(t.dir, "local");
    const handle = await t.openCe({
      CloudType: "LOCAL",
      Instance_Image: "local-el9",
      Instance_Flavor: "local.small",
      Driver_state_dir: state,
    });
    const submitted = (
      await t.server.call("submitJob", { handle, executableFile: join(t.dir, "pilot.sh"), numberOfJobs: 1 })
    ).result!;
    const ref = (submitted["Value"] as string[])[0]!;
    const stamp = (submitted["PilotStampDict"] as Record<string, string>)[ref]!;
    let output: RpcMessage["result"];
    // The LOCAL VM is a real process: wait for its console.
    await until(async () => {
      output = (await t.server.call("getJobOutput", { handle, ref: `${ref}:::${stamp}` })).result;
      return String((output!["Value"] as string[])[0]).includes("pilot");
    }, "the pilot's console");
    expect(output).toMatchObject({ OK: true, Value: [expect.stringContaining("pilot"), ""] });
    await t.server.call("killJob", { handle, refs: [ref] });
  });

  it("log lines become notifications once the client asks, and stay off stderr", async () => {
    await t.server.call("handshake", { protocol: 1, logs: "notify" });
    const handle = await t.openCe();
    await t.server.call("submitJob", { handle, executableFile: join(t.dir, "pilot.sh"), numberOfJobs: 1 });
    const logs = t.server.notifications().filter((n) => n.method === "log");
    expect(
      logs.some(
        (n) =>
          n.params!["msg"] === "pilot VM created" &&
          (n.params!["fields"] as Record<string, string>)["ce"] === "serve-test.cloud",
      ),
    ).toBe(true);
    expect(t.server.stderr()).toBe("");
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
      const answer = await t.server.call("getDescription", { handle: "h" });
      expect(answer.error!.code).toBe(RPC_ERRORS.InternalError);
      expect(answer.error!.message).not.toContain("s3cr3t-serve-token");
      expect(t.server.stderr()).not.toContain("s3cr3t-serve-token");
    } finally {
      spy.mockRestore();
    }
  });
});
