import { describe, expect, it } from "vitest";
import { startFixture } from "../support/child.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const options = { CloudType: "NOISY", Instance_Image: "img", Instance_Flavor: "small" };

describe("cloudce serve --stdio as a process", () => {
  it("stdout carries only protocol, even when a library writes there; EOF ends it with 0", async () => {
    const run = await startFixture("noisy-serve", ["--stdio", "--log-level", "debug"], FIXTURES);
    let stderr = "";
    run.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const send = (id: number, method: string, params: Record<string, unknown>): void =>
      void run.child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    send(1, "handshake", { protocol: 1 });
    send(2, "open", { ceName: "noisy.cloud" });
    await run.waitFor(/"id":2,"result"/);
    send(3, "setParameters", { handle: "ce-1", options });
    send(4, "getCEStatus", { handle: "ce-1" });
    send(5, "getJobStatus", { handle: "ce-1", refs: ["cloud://nope"] });
    await run.waitFor(/"id":5,/);
    run.child.stdin!.end();
    expect(await run.exited).toEqual({ code: 0, signal: null });

    const lines = run.stdout().trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    expect(stderr).toContain("noise from console.log");
    expect(stderr).toContain("noise from process.stdout.write");
  });

  it("refuses to start without --stdio, naming the flag", async () => {
    const run = await startFixture("noisy-serve", [], FIXTURES);
    let stderr = "";
    run.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    expect((await run.exited).code).toBe(2);
    expect(stderr).toMatch(/^cloudce serve: --stdio is required/);
  });
});

describe("cloudce serve --stdio and signals", () => {
  it("SIGTERM ends it in order (exit 0), like stdin EOF", async () => {
    const run = await startFixture("noisy-serve", ["--stdio"], FIXTURES);
    run.child.stdin!.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "handshake", params: { protocol: 1 } })}\n`,
    );
    await run.waitFor(/"id":1,"result"/);
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });
});
