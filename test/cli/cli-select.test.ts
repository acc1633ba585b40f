/**
 * Finding and acting on pilots by what they are: status --state, kill --all /
 * --state with a confirmation (--yes) and --dry-run, the short id status
 * prints typed back bare, cleanup --dry-run, output --follow, report
 * --since/--until; on the LOCAL cloud.
 */

import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { run as runCli } from "../../src/cli/run.js";
import { cli as run, type CliRun } from "./cli-harness.js";
import { untilValue } from "../support/wait.js";

let dir: string;
let config: string;
let sleeper: string;
let quick: string;
const cli = (...argv: string[]): Promise<CliRun> => run(["--config", config, ...argv]);

interface Listed {
  pilots: { ref: string; status: string }[];
}

async function listed(...flags: string[]): Promise<Listed["pilots"]> {
  const r = await cli("--json", "status", ...flags);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Listed).pilots;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-select-"));
  sleeper = join(dir, "sleeper.sh");
  quick = join(dir, "quick.sh");
  // Outlives any slowness of a busy machine: every test kills what it needs gone, afterAll the rest.
  await writeFile(sleeper, "#!/bin/bash\nsleep 3600\n");
  await writeFile(quick, "#!/bin/bash\necho quick pilot says hello\n");
  config = join(dir, "ce.conf");
  await writeFile(
    config,
    [
      "CE = select.example.org",
      "CloudType = LOCAL",
      `Driver_state_dir = ${join(dir, "local")}`,
      "Driver_boot_seconds = 0",
      "Instance_Image = name:el9-pilot",
      "Instance_Flavor = name:small",
      "MaxTotalJobs = 10",
      "MaxWaitingJobs = 10",
      `Journal_File = ${join(dir, "journal.jsonl")}`,
    ].join("\n"),
  );
});

afterAll(async () => {
  await cli("kill", "--all", "--yes");
});

describe("choosing pilots by state", () => {
  it("status --state lists only those states; an unknown state is one usage line", async () => {
    expect((await cli("submit", "-n", "3", "--executable", sleeper)).code).toBe(0);
    const running = await untilValue(
      async () => {
        const p = await listed("--state", "running");
        return p.length === 3 ? p : undefined;
      },
      "three running pilots",
      undefined,
      100,
    );
    expect(running.every((p) => p.status === "Running")).toBe(true);
    expect(await listed("--state", "Done,aborted")).toEqual([]);
    const bad = await cli("status", "--state", "sleeping");
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toBe(
      "cloudce status: --state: 'sleeping' is not a pilot state; use Waiting, Running, Done, Aborted, Unknown (comma-separated)\n",
    );
  });

  it("kill --all asks first: without a terminal it needs --yes, and --dry-run kills nothing", async () => {
    const refused = await cli("kill", "--all");
    expect(refused).toMatchObject({ code: 2, stdout: "" });
    expect(refused.stderr).toBe(
      "cloudce kill: this would kill 3 pilot VMs: add --yes to confirm (or --dry-run to list them first)\n",
    );
    const dry = await cli("--json", "kill", "--all", "--dry-run");
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.stdout) as { wouldKill: string[] }).wouldKill).toHaveLength(3);
    expect(await listed("--state", "running")).toHaveLength(3);
  });

  it("kill takes the short id status prints, bare", async () => {
    const [first] = await listed();
    const bare = first!.ref.slice("cloud://".length, "cloud://".length + 8);
    const r = await cli("--json", "kill", bare);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { killed: string[] }).killed).toEqual([first!.ref]);
    expect((await listed("--state", "running")).map((p) => p.ref)).not.toContain(first!.ref);
  });

  it("kill --state running --yes kills those, and nothing else", async () => {
    const r = await cli("--json", "kill", "--state", "running", "--yes");
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { killed: string[] }).killed).toHaveLength(2);
    expect(await listed("--state", "running")).toEqual([]);
  });

  it("refuses references together with --all, and a kill of nothing named", async () => {
    expect((await cli("kill", "cloud://abc", "--all")).stderr).toBe(
      "cloudce kill: give references or --all/--state, not both\n",
    );
    expect((await cli("kill")).code).toBe(2);
  });
});

describe("cleanup --dry-run, output --follow, report --since/--until", () => {
  it("output --follow prints the console until the pilot has finished; cleanup --dry-run lists it and deletes nothing", async () => {
    const sub = await cli("--json", "submit", "--executable", quick);
    const [ref] = (JSON.parse(sub.stdout) as { refs: string[] }).refs;
    const followed = await cli("output", "--follow", ref!.slice(8, 16));
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toContain("quick pilot says hello");
    await untilValue(
      async () => ((await listed("--state", "done")).some((p) => p.ref === ref) ? true : undefined),
      "the quick pilot done",
      undefined,
      100,
    );
    const dry = await cli("--json", "cleanup", "--dry-run", "--lock", join(dir, "c.lock"));
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as { wouldDelete: { ref: string }[] }).wouldDelete.map((e) => e.ref)).toContain(ref);
    expect((await listed()).map((p) => p.ref)).toContain(ref);
    expect((await cli("cleanup", "--dry-run", "--every", "1m")).stderr).toBe(
      "cloudce cleanup: --dry-run shows one pass: give it without --every\n",
    );
  });

  it("cleanup --json --every prints one JSON document per line, each with its time; its journal lines carry the stamp", async () => {
    const stop = new AbortController();
    const stdout = new PassThrough();
    let text = "";
    stdout.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.includes("\n")) stop.abort();
    });
    const code = await runCli(
      [
        "--config",
        config,
        "--json",
        "--log-level",
        "silent",
        "cleanup",
        "--every",
        "10s",
        "--lock",
        join(dir, "c.lock"),
      ],
      { stdout, stderr: new PassThrough(), signal: stop.signal },
    );
    expect(code).toBe(0);
    const lines = text.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) {
      const doc = JSON.parse(line) as { time: string; deleted: { ref: string }[] };
      expect(Date.parse(doc.time)).toBeGreaterThan(Date.now() - 600_000);
      expect(Array.isArray(doc.deleted)).toBe(true);
    }
    const deletedByCleanup = (JSON.parse(lines[0]!) as { deleted: { ref: string }[] }).deleted.map((d) => d.ref);
    expect(deletedByCleanup.length).toBeGreaterThanOrEqual(1);
    const journal = (await readFile(join(dir, "journal.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; ref: string; stamp: string; outcome: string });
    const deletes = journal.filter(
      (e) => e.action === "delete" && e.outcome === "ok" && deletedByCleanup.includes(e.ref),
    );
    expect(deletes.length).toBe(deletedByCleanup.length);
    for (const d of deletes) expect(d.stamp).toBe(journal.find((e) => e.action === "create" && e.ref === d.ref)!.stamp);
    expect(deletes.every((d) => d.stamp !== "")).toBe(true);
  });

  it("report --since/--until keep the pilots of that window; a bad bound is one usage line", async () => {
    const all = await cli("--json", "report");
    expect(all.code, all.stderr).toBe(0);
    const submitted = (doc: string): number => (JSON.parse(doc) as { submitted: number }).submitted;
    expect(submitted(all.stdout)).toBe(4);
    const recent = await cli("--json", "report", "--since", "1h");
    expect(submitted(recent.stdout)).toBe(4);
    const before = await cli("--json", "report", "--until", "2020-01-01");
    expect(before.code, before.stderr).toBe(0);
    expect(submitted(before.stdout)).toBe(0);
    // A bound after now counts lives up to now, not up to the bound.
    const doc = (text: string): { vmHours: number; generatedAt: string } => JSON.parse(text);
    const later = doc((await cli("--json", "report", "--until", "2099-01-01")).stdout);
    expect(Date.parse(later.generatedAt)).toBeLessThanOrEqual(Date.now());
    expect(later.vmHours).toBeLessThanOrEqual(doc((await cli("--json", "report")).stdout).vmHours);
    expect((await cli("report", "--since", "yesterday")).stderr).toMatch(
      /^cloudce report: --since: 'yesterday' is neither a date or time/,
    );
    expect((await cli("report", "--since", "2026-12-02", "--until", "2026-12-01")).stderr).toBe(
      "cloudce report: --since 2026-12-02 is after --until 2026-12-01\n",
    );
  });
});

describe("status --watch", () => {
  it("shows the status again every interval, each after a line with its time, until stopped", async () => {
    const stop = new AbortController();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errors = "";
    stderr.on("data", (d: Buffer) => (errors += d.toString()));
    let text = "";
    stdout.on("data", (d: Buffer) => {
      text += d.toString();
      // Two full rounds seen: stop it the way SIGINT would.
      if ((text.match(/^slots available: /gm) ?? []).length >= 2) stop.abort();
    });
    const code = await runCli(["--config", config, "status", "--watch", "1"], { stdout, stderr, signal: stop.signal });
    expect(code, errors).toBe(0);
    const stamps = text.match(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z$/gm) ?? [];
    expect(stamps.length).toBeGreaterThanOrEqual(2);
    expect(Date.parse(stamps[1]!.slice(4)) - Date.parse(stamps[0]!.slice(4))).toBeGreaterThanOrEqual(900);
    expect((await cli("status", "--watch", "0")).stderr).toMatch(
      /^cloudce status: .*'0' is not a whole number of seconds from 1 to 3600/,
    );
  });
});
