/**
 * What people read fits 80 columns and keeps what tells rows apart: with a
 * long VM name prefix, a long queue name and long paths, status, cleanup and
 * config lines are at most 80 characters, every VM's unique suffix and the
 * queue's name are still there, and config keeps each option's file and line.
 * `status --wide` shows every cell whole and is documented as wider.
 */

import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clipMiddle } from "../../src/cli/fit-table.js";
import { cli as run, type CliRun } from "./cli-harness.js";
import { untilValue } from "../support/wait.js";

let dir: string;
let config: string;
const QUEUE = "long-running-multicore";
const cli = (...argv: string[]): Promise<CliRun> => run(["--config", config, ...argv]);
const widest = (text: string): number => Math.max(...text.split("\n").map((l) => l.length));

beforeAll(async () => {
  dir = join(
    await mkdtemp(join(tmpdir(), "cloudce-layout-")),
    "a-site-folder-with-a-rather-long-name",
    "and-another-level",
  );
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "quick.sh"), "#!/bin/bash\necho done\n");
  config = join(dir, "ce.conf");
  await writeFile(
    config,
    [
      "CE = cloud-with-a-long-name.grid.example.org",
      `Queue = ${QUEUE}`,
      "CloudType = LOCAL",
      `Driver_state_dir = ${join(dir, "local-state-folder")}`,
      "Driver_boot_seconds = 0",
      "Instance_NamePrefix = DIRAC_PILOT_LONGNAME_",
      "Instance_Image = name:el9-pilot",
      "Instance_Flavor = name:small",
      "MaxTotalJobs = 10",
      "MaxWaitingJobs = 10",
      `Journal_File = ${join(dir, "journal-of-this-site.jsonl")}`,
    ].join("\n"),
  );
});

afterAll(async () => {
  await cli("kill", "--all", "--yes");
});

describe("80 columns", () => {
  it("clips in the middle, keeping more of the end", () => {
    expect(clipMiddle("DIRAC_PILOT_LONGNAME_4fb1641f", 14)).toBe("DIRA…_4fb1641f");
    expect(clipMiddle("short", 14)).toBe("short");
  });

  it("status, cleanup and config fit, and keep the VMs' suffixes, the queue and each option's line", async () => {
    const sub = await cli("--json", "submit", "-n", "3", "--executable", join(dir, "quick.sh"));
    expect(sub.code, sub.stderr).toBe(0);
    const refs = (JSON.parse(sub.stdout) as { refs: string[] }).refs;
    const names = (JSON.parse((await cli("--json", "status")).stdout) as { pilots: { name: string }[] }).pilots.map(
      (p) => p.name,
    );
    expect(names).toHaveLength(3);
    const status = await cli("status");
    expect(status.code, status.stderr).toBe(0);
    expect(widest(status.stdout), status.stdout).toBeLessThanOrEqual(80);
    for (const name of names) expect(status.stdout).toContain(name.slice(-8));
    expect(status.stdout).toContain(QUEUE);
    const wide = await cli("status", "--wide");
    for (const ref of refs) expect(wide.stdout).toContain(ref);
    for (const name of names) expect(wide.stdout).toContain(name);
    expect(wide.stdout).not.toContain("…");
    expect(widest(wide.stdout), "--wide is for wide terminals, as the README says").toBeGreaterThan(80);
    expect(await readFile(new URL("../../README.md", import.meta.url), "utf8")).toContain(
      "except `status --wide`, which is meant for wide terminals",
    );
    await untilValue(
      async () =>
        (await cli("--json", "status", "--state", "done")).stdout.match(/"ref"/g)?.length === 3 ? true : undefined,
      "the three pilots done",
      undefined,
      100,
    );
    const cleanup = await cli("cleanup", "--lock", join(dir, "c.lock"));
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(widest(cleanup.stdout), cleanup.stdout).toBeLessThanOrEqual(80);
    for (const ref of refs) expect(cleanup.stdout).toContain(ref.slice(8, 16));
    const shown = await cli("config");
    expect(widest(shown.stdout), shown.stdout).toBeLessThanOrEqual(80);
    expect(shown.stdout).toMatch(/Journal_File .*…/);
    expect(shown.stdout).toMatch(/ce\.conf:11$/m);
  });
});

describe("--help", () => {
  it.each([
    [[], "cloudce -c ce.conf submit -n 10 -e pilot.sh"],
    [["kill"], "kill --state aborted --dry-run"],
    [["status"], "status --state running,waiting"],
    [["cleanup"], "cleanup --dry-run"],
  ])("%j --help ends with examples that fit 80 columns", async (argv, example) => {
    const r = await run([...argv, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nExamples:\n/);
    expect(r.stdout).toContain(example);
    const examples = r.stdout.slice(r.stdout.indexOf("Examples:"));
    expect(widest(examples)).toBeLessThanOrEqual(80);
  });
});
