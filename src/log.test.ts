import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, stderrSink, type LogRecord } from "./log.js";
import { clearSecretsForTesting, registerSecret } from "./secrets.js";

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

afterEach(() => clearSecretsForTesting());

describe("logger", () => {
  it("drops lines below its level and carries its fields on every line", () => {
    const records: LogRecord[] = [];
    const log = createLogger({ level: "info", sink: (r) => records.push(r) }).child({ ce: "ce.example.org" });
    log.debug("hidden");
    log.info("created", { ref: "cloud://1" });
    expect(records.map((r) => [r.level, r.msg, r.fields])).toEqual([
      ["info", "created", { ce: "ce.example.org", ref: "cloud://1" }],
    ]);
  });

  it("writes JSON lines for collectors and short lines for people", () => {
    const json = capture();
    createLogger({ sink: stderrSink(false, json.stream) }).warn("slow", { ce: "a" });
    expect(JSON.parse(json.text())).toMatchObject({ level: "warn", msg: "slow", ce: "a" });
    const human = capture();
    createLogger({ sink: stderrSink(true, human.stream) }).error("failed", { ce: "a" });
    expect(human.text()).toMatch(/^\d\d:\d\d:\d\d ERROR failed ce=a\n$/);
  });

  it("scrubs registered secrets from messages and fields", () => {
    registerSecret("hunter2-password");
    const records: LogRecord[] = [];
    createLogger({ sink: (r) => records.push(r) }).info("login hunter2-password", { detail: "pw=hunter2-password" });
    expect(JSON.stringify(records)).not.toContain("hunter2-password");
    expect(records[0]!.msg).toBe("login [secret]");
  });
});
