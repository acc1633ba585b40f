/** kill and output on a CE with several queues: no --queue needed; --queue narrows kill --all to that queue. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./cli-harness.js";

let dir: string;
let config: string;
const CE = "queues-kill.example.org";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-queues-kill-"));
  config = join(dir, "dirac.cfg");
  const pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\nsleep 300\n");
  const queue = (name: string): string => `${name}\n{\nMaxTotalJobs = 5\nMaxWaitingJobs = 5\n}`;
  await writeFile(
    config,
    `Resources\n{\nSites\n{\nCLOUD\n{\nCLOUD.Test.org\n{\nCEs\n{\n${CE}\n{\nCloudType = LOCAL\nDriver_state_dir = local\n` +
      `Driver_boot_seconds = 0\nInstance_Image = name:el9-pilot\nInstance_Flavor = name:small\nJournal_File = journal.jsonl\n` +
      `Queues\n{\n${queue("short")}\n${queue("long")}\n}\n}\n}\n}\n}\n}\n}\n`,
  );
  for (const [q, n] of [
    ["short", 2],
    ["long", 1],
  ] as const) {
    expect(await cli(["--config", config, "--queue", q, "submit", "-n", String(n), "-e", pilot])).toMatchObject({
      code: 0,
    });
  }
});

afterAll(async () => {
  await cli(["--config", config, "kill", "--all", "--yes"]);
  await rm(dir, { recursive: true, force: true });
});

describe("kill on several queues", () => {
  it("kill --all without --queue covers every queue; with --queue only that queue's", async () => {
    const dry = await cli(["--config", config, "--json", "kill", "--all", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as { wouldKill: string[] }).wouldKill).toHaveLength(3);
    const long = await cli(["--config", config, "--queue", "long", "--json", "kill", "--all", "--yes"]);
    expect(long.code, long.stderr).toBe(0);
    expect((JSON.parse(long.stdout) as { killed: string[] }).killed).toHaveLength(1);
    const left = await cli(["--config", config, "--json", "status"]);
    expect((JSON.parse(left.stdout) as { pilots: { queue: string }[] }).pilots.map((p) => p.queue)).toEqual([
      "short",
      "short",
    ]);
    const rest = await cli(["--config", config, "--json", "kill", "--all", "--yes"]);
    expect((JSON.parse(rest.stdout) as { killed: string[] }).killed).toHaveLength(2);
  });
});
