/**
 * serve takes its CE, queue and options from each request: a global option it
 * would ignore is a usage error (exit 2) saying so, never silently dropped.
 */

import { describe, expect, it } from "vitest";
import { cli } from "./cli-harness.js";

describe("the global options serve would ignore", () => {
  it.each([
    [["--queue", "short"], "--queue: serve takes its CE and queue from each request; drop --queue"],
    [["-q", "short"], "--queue: serve takes its CE and queue from each request; drop --queue"],
    [["--ce", "x.example.org"], "--ce: serve takes its CE and queue from each request; drop --ce"],
    [
      ["--journal", "j.jsonl"],
      "--journal: serve takes each CE's options from its request; drop --journal and set Journal_File there",
    ],
    [["--proxy", "x509"], "--proxy: serve takes each CE's proxy from its request; drop --proxy"],
    [
      ["--metrics-file", "m.prom"],
      "--metrics-file: serve runs until stopped; drop --metrics-file and use serve --metrics-port",
    ],
    [["--config", "ce.conf"], "--config: serve takes each CE's options from its request; drop --config"],
  ])("%j is refused with one line, exit 2", async (globals, line) => {
    const r = await cli([...globals, "serve", "--stdio"]);
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: `cloudce serve: ${line}\n` });
  });

  it("--json is refused as a {OK, Message, Code} document, as every --json error is", async () => {
    const r = await cli(["--json", "serve", "--stdio"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      OK: false,
      Message: "--json: serve always answers in JSON-RPC on stdout; drop --json",
      Code: "OptionInvalid",
    });
  });
});
