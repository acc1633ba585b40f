/** The CLI on a CE with several queues: status, report and cleanup cover every queue unless --queue names one. */

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJournal } from "../../src/ops/journal.js";
import { cli } from "./cli-harness.js";

let dir: string;
let config: string;
let pilot: string;
const CE = "queues.example.org";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-queues-"));
  config = join(dir, "dirac.cfg");
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\nsleep 300\n");
  const queue = (name: string, total: number): string =>
    `${name}\n{\nMaxTotalJobs = ${total}\nMaxWaitingJobs = ${total}\n}`;
  await writeFile(
    config,
    `Resources\n{\nSites\n{\nCLOUD\n{\nCLOUD.Test.org\n{\nCEs\n{\n${CE}\n{\nCloudType = LOCAL\nDriver_state_dir = local\n` +
      `Driver_boot_seconds = 3600\nInstance_Image = name:el9-pilot\nInstance_Flavor = name:small\nJournal_File = journal.jsonl\n` +
      `Queues\n{\n${queue("short", 3)}\n${queue("long", 5)}\n}\n}\n}\n}\n}\n}\n}\n`,
  );
  for (const [q, n] of [
    ["short", 2],
    ["long", 1],
  ] as const) {
    const r = await cli(["--config", config, "--queue", q, "submit", "-n", String(n), "-e", pilot]);
    expect(r).toMatchObject({ code: 0 });
  }
});

afterAll(async () => {
  await cli(["--config", config, "--queue", "short", "kill", ...(await refsOf())]);
  await rm(dir, { recursive: true, force: true });
});

async function refsOf(queue?: string): Promise<string[]> {
  const r = await cli(["--config", config, ...(queue ? ["--queue", queue] : []), "--json", "status"]);
  return (JSON.parse(r.stdout) as { pilots: { ref: string }[] }).pilots.map((p) => p.ref);
}

/** Every command that works on a CE chosen with --ce and --queue (serve takes both from each request). */
const EVERY_COMMAND = [
  ["submit", "-n", "1", "-e", "PILOT"],
  ["status"],
  ["kill", "--all", "--yes"],
  ["cleanup"],
  ["report"],
  ["output", "cloud://nope"],
  ["render", "-e", "PILOT"],
  ["validate"],
  ["config"],
  ["demo", "-e", "PILOT"],
  ["try", "-e", "PILOT"],
].map((argv) => ({ command: argv.join(" "), argv }));

/** The commands that work on one queue: without --queue they cannot choose among several. */
const ONE_QUEUE_COMMANDS = EVERY_COMMAND.filter(({ argv }) =>
  ["submit", "render", "validate", "config", "demo", "try"].includes(argv[0]!),
);

describe("several queues on one CE", () => {
  it("status without --queue lists every queue's VMs and a summary per queue, with each queue's own slots", async () => {
    const r = await cli(["--config", config, "--json", "status"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      pilots: { queue: string }[];
      queues: { queue: string; slots: number; WaitingJobs: number }[];
    };
    expect(json.pilots.map((p) => p.queue).sort()).toEqual(["long", "short", "short"]);
    expect(json.queues).toEqual([
      expect.objectContaining({ queue: "short", slots: 1, WaitingJobs: 2 }),
      expect.objectContaining({ queue: "long", slots: 4, WaitingJobs: 1 }),
    ]);
    const text = await cli(["--config", config, "status"]);
    expect(text.stdout).toMatch(/^queue short: 2 pilot VMs: 2 Waiting.*; slots available: 1$/m);
    expect(text.stdout).toMatch(/^queue long: 1 pilot VM: 1 Waiting.*; slots available: 4$/m);
  });

  it("status --queue shows that queue's VMs only", async () => {
    const r = await cli(["--config", config, "--queue", "long", "--json", "status"]);
    const json = JSON.parse(r.stdout) as { pilots: { queue: string }[]; slots: number };
    expect(json.pilots.map((p) => p.queue)).toEqual(["long"]);
    expect(json.slots).toBe(4);
  });

  it("report without --queue has a row per queue; with --queue only that queue's pilots", async () => {
    const all = JSON.parse((await cli(["--config", config, "--json", "report"])).stdout) as {
      submitted: number;
      rows: { queue: string; submitted: number }[];
    };
    expect(all.submitted).toBe(3);
    expect(all.rows.map((row) => [row.queue, row.submitted]).sort()).toEqual([
      ["long", 1],
      ["short", 2],
    ]);
    const long = JSON.parse((await cli(["--config", config, "--queue", "long", "--json", "report"])).stdout) as {
      submitted: number;
    };
    expect(long.submitted).toBe(1);
  });

  it("cleanup without --queue cleans each queue by its own options, and journals one delete per VM", async () => {
    const short = await refsOf("short");
    expect((await cli(["--config", config, "--queue", "short", "kill", short[0]!])).code).toBe(0);
    const metrics = join(dir, "cleanup.prom");
    const r = await cli(["--config", config, "--metrics-file", metrics, "--json", "cleanup"]);
    expect(r.code).toBe(0);
    // Each queue's pass labels what it saw with its own queue.
    const text = await readFile(metrics, "utf8");
    expect(text).toMatch(new RegExp(`^cloudce_vms\\{ce="${CE}",queue="short",status="Waiting"\\} 1$`, "m"));
    expect(text).toMatch(new RegExp(`^cloudce_vms\\{ce="${CE}",queue="long",status="Waiting"\\} 1$`, "m"));
    expect(Object.keys((JSON.parse(r.stdout) as { queues: Record<string, unknown> }).queues)).toEqual([
      "short",
      "long",
    ]);
    const deletes = (await readJournal(join(dir, "journal.jsonl"))).entries.filter(
      (e) => e.action === "delete" && e.outcome === "ok",
    );
    expect(deletes.map((e) => e.ref)).toEqual([short[0]]);
  });

  it.each(EVERY_COMMAND)(
    "an unknown --queue is a usage error (exit 2) naming the CE's queues: $command",
    async ({ argv }) => {
      await expectUsageError(
        ["--queue", "nosuch"],
        argv,
        `dirac\\.cfg: --queue nosuch: CE '${CE}' \\(line \\d+\\) has no such queue; its queues: short, long`,
      );
    },
  );

  it.each(EVERY_COMMAND)(
    "an unknown --ce is a usage error (exit 2) naming the file's CEs: $command",
    async ({ argv }) => {
      await expectUsageError(
        ["--ce", "nosuch.example.org"],
        argv,
        `dirac\\.cfg: --ce nosuch\\.example\\.org: no such CE under Resources/Sites/\\*/\\*/CEs; its CEs: ${CE.replaceAll(".", "\\.")}`,
      );
    },
  );

  it.each(ONE_QUEUE_COMMANDS)(
    "a missing --queue is a usage error (exit 2) naming the CE's queues: $command",
    async ({ argv }) => {
      await expectUsageError(
        [],
        argv,
        `dirac\\.cfg: CE '${CE}' has several queues: short, long; choose one with --queue`,
      );
    },
  );
});

/** The command fails with exit 2 and the one line `line` (a pattern), and does nothing to the CE's VMs. */
async function expectUsageError(globals: string[], argv: string[], line: string): Promise<void> {
  const before = await refsOf();
  const args = argv.map((a) => (a === "PILOT" ? pilot : a));
  const r = await cli(["--config", config, ...globals, ...args]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(new RegExp(`^cloudce ${args[0]}: .*${line}\n$`));
  expect(await refsOf()).toEqual(before);
}
