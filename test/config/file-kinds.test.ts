/**
 * Configuration files that are not regular text files (a FIFO, a directory,
 * random bytes) are refused in one line naming the file; nothing hangs on a
 * FIFO waiting for a writer, and no raw control byte reaches the terminal.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../cli/cli-harness.js";
import { readAuthSection } from "../../src/auth/auth-file.js";
import { CloudComputingElement, silentLogger } from "../../src/index.js";

let dir: string;
let fifo: string;
let noise: string;
let good: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-kinds-"));
  fifo = join(dir, "ce.fifo");
  execFileSync("mkfifo", [fifo]);
  noise = join(dir, "noise.conf");
  // Bytes that are not UTF-8 text, control bytes among them (a fixed pattern: every run the same).
  await writeFile(noise, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 37 + 11) % 256)), { mode: 0o600 });
  good = join(dir, "ce.conf");
  await writeFile(
    good,
    `CloudType = LOCAL\nDriver_state_dir = ${join(dir, "state")}\nInstance_Image = name:el9-pilot\nInstance_Flavor = name:small\n`,
  );
});

const oneCleanLine = (text: string): void => {
  expect(text.trim().split("\n")).toHaveLength(1);
  expect(text.length).toBeLessThan(400);
  expect(/[\x00-\x08\x0b-\x1f\x7f]/.test(text)).toBe(false);
};

describe("a configuration file that is not a regular text file", () => {
  it.each([
    ["a FIFO", () => fifo, /is not a regular file/],
    ["a directory", () => dir, /is not a regular file/],
    ["random bytes", () => noise, /is not a text file/],
  ])("--config %s is refused in one line naming it", async (_what, path, reason) => {
    const r = await cli(["--config", path(), "status"]);
    expect(r.code).not.toBe(0);
    oneCleanLine(r.stderr);
    expect(r.stderr).toContain(path());
    expect(r.stderr).toMatch(reason);
  });

  it.each([
    ["a FIFO", () => fifo, /is not a regular file/],
    ["random bytes", () => noise, /is not a text file/],
  ])("CloudAuth as %s is refused in one line naming it", async (_what, path, reason) => {
    const message = await readAuthSection(path(), "kinds.example.org", silentLogger).then(
      () => "",
      (e: Error) => e.message,
    );
    oneCleanLine(message);
    expect(message).toMatch(/^CloudAuth: /);
    expect(message).toContain(path());
    expect(message).toMatch(reason);
  });

  it.each([
    ["a FIFO", () => fifo, /is not a regular file/],
    ["random bytes", () => noise, /is not a text file/],
  ])("Context_Template as %s is refused in one line naming it", async (_what, path, reason) => {
    const ce = new CloudComputingElement("kinds.example.org", { logger: silentLogger });
    await ce.setParameters({
      CloudType: "LOCAL",
      Driver_state_dir: join(dir, "state"),
      Instance_Image: "name:el9-pilot",
      Instance_Flavor: "name:small",
      Context_Template: path(),
    });
    const pilot = join(dir, "pilot.sh");
    await writeFile(pilot, "#!/bin/sh\necho hi\n");
    const r = await ce.renderUserData(pilot);
    expect(r.OK).toBe(false);
    const message = r.OK ? "" : r.Message;
    oneCleanLine(message);
    expect(message).toContain(path());
    expect(message).toMatch(reason);
    await ce.shutdown();
  });

  it("a regular text file still loads", async () => {
    expect((await cli(["--config", good, "status"])).code).toBe(0);
  });
});
