import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli as run, type CliRun } from "./cli-harness.js";
import { acquireLock } from "../../src/util/lock.js";
import { SecretSlot } from "../../src/secrets.js";
import { until } from "../support/wait.js";

let dir: string;
let config: string;
let pilot: string;

const cli = async (...argv: string[]): Promise<CliRun> => run(argv);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-cli-"));
  config = join(dir, "ce.conf");
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, '#!/bin/bash\necho "stamp=$DIRAC_PILOT_STAMP"\nsleep 30\n');
  await writeFile(
    config,
    [
      "# a test CE",
      "CE = cli-test.example.org",
      "CloudType = LOCAL",
      `Driver_state_dir = ${join(dir, "local")}`,
      "Instance_Image = name:el9-pilot",
      "Instance_Flavor = name:small",
      "MaxTotalJobs = 4",
      "MaxWaitingJobs = 4",
      `Journal_File = ${join(dir, "journal.jsonl")}`,
    ].join("\n"),
  );
});

describe("cloudce command", () => {
  it("prints usage and exits 2 without a command, 0 with --help", async () => {
    expect(await cli()).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "cloudce: no command given; see cloudce --help\n",
    });
    const help = await cli("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: cloudce [options] <command>");
  });

  it("exits 2 on an unknown command or flag, with one line saying so", async () => {
    const r = await cli("--config", config, "launch");
    expect(r).toMatchObject({ code: 2, stderr: "cloudce: unknown command 'launch'; see cloudce --help\n" });
    expect(await cli("--frobnicate")).toMatchObject({
      code: 2,
      stderr: "cloudce: unknown option '--frobnicate'; see cloudce --help\n",
    });
  });

  it("scrubs secrets from the error lines it writes to stderr", async () => {
    const secret = new SecretSlot();
    secret.set("hunter2-password");
    try {
      const flag = await cli("--hunter2-password", "status");
      const command = await cli("--config", config, "hunter2-password");
      for (const r of [flag, command]) {
        expect(r.code).toBe(2);
        expect(r.stderr).not.toContain("hunter2-password");
        expect(r.stderr).toContain("[secret]");
      }
    } finally {
      secret.clear();
    }
  });

  it("names a missing config file", async () => {
    const r = await cli("--config", join(dir, "nope.conf"), "status");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nope.conf");
  });

  it("validates, pointing at the line of a bad option", async () => {
    expect(await cli("--config", config, "validate")).toMatchObject({
      code: 0,
      stdout:
        "cli-test.example.org: configuration is valid (offline: image, flavor, networks and quota on the cloud were not checked; --online checks them)\n",
    });
    const bad = join(dir, "bad.conf");
    await writeFile(
      bad,
      "CloudType = LOCAL\nInstance_Image = name:el9-pilot\nInstance_Flavor = small\nContext_MaxLifetime = forever\n",
    );
    expect(await cli("--config", bad, "validate")).toMatchObject({
      code: 1,
      stderr: `cloudce validate: cloudce-local is not valid: Context_MaxLifetime: 'forever' is not a whole number from 1 to 31536000 (${bad}:4)\n`,
    });
  });

  it("submits, lists, shows output, kills and cleans up, as JSON for scripts", async () => {
    const sub = await cli("--config", config, "--json", "submit", "-n", "2", "--executable", pilot);
    expect(sub.code).toBe(0);
    const { refs, PilotStampDict } = JSON.parse(sub.stdout) as {
      refs: string[];
      PilotStampDict: Record<string, string>;
    };
    expect(refs).toHaveLength(2);

    const all = JSON.parse((await cli("--config", config, "--json", "status", "--all")).stdout) as {
      pilots: { ref: string }[];
    };
    expect(all.pilots.map((p) => p.ref).sort()).toEqual([...refs].sort());

    const table = await cli("--config", config, "status", ...refs);
    expect(table.stdout.split("\n")[0]).toMatch(/^REFERENCE\s+STATUS$/);

    let out = "";
    await until(async () => {
      out = (await cli("--config", config, "output", refs[0]!)).stdout;
      return out.includes("stamp=");
    }, "the pilot's output");
    expect(out).toContain(`stamp=${PilotStampDict[refs[0]!]}`);

    expect(await cli("--config", config, "kill", "not-a-ref")).toMatchObject({ code: 2 });
    const killed = await cli("--config", config, "--json", "kill", ...refs);
    expect(JSON.parse(killed.stdout)).toEqual({ killed: refs, gone: [], failed: [] });
    expect((await cli("--config", config, "cleanup")).stdout).toBe("nothing to clean up\n");
    const report = JSON.parse((await cli("--config", config, "--json", "report")).stdout) as { submitted: number };
    expect(report.submitted).toBe(2);
  });

  it("reports live VMs by their cloud state, in the summary and the plot", async () => {
    const sub = await cli("--config", config, "--json", "submit", "-n", "2", "--executable", pilot);
    const { refs } = JSON.parse(sub.stdout) as { refs: string[] };
    const plot = join(dir, "timeline.svg");
    const report = JSON.parse((await cli("--config", config, "--json", "report", "--plot", plot)).stdout) as {
      running: number;
      unknown: number;
    };
    expect(report).toMatchObject({ running: 2, unknown: 0 });
    const svg = await readFile(plot, "utf8");
    expect(svg).toContain("running (2)");
    expect(svg).toContain("unknown (0)");
    await cli("--config", config, "kill", ...refs);
  });

  it("renders the user-data only when asked, and says its size", async () => {
    const r = await cli("--config", config, "render", "--executable", pilot);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Content-Type: multipart/mixed");
    expect(r.stderr).toMatch(/^user-data: \d+ bytes, limit 65535 bytes before base64/);
    expect(await cli("--config", config, "render")).toMatchObject({
      code: 2,
      stderr: "cloudce render: give the pilot executable with --executable FILE (render needs it)\n",
    });
  });
});

describe("cloudce cleanup under a lock", () => {
  it("exits 75 when another cleanup of the CE holds the lock", async () => {
    const lock = join(dir, "cleanup.lock");
    const held = await acquireLock(lock);
    try {
      const r = await cli("--config", config, "cleanup", "--lock", lock);
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(/^cloudce cleanup: .*another cleanup holds this lock \(pid \d+ on /);
    } finally {
      await held.release();
    }
    expect(await cli("--config", config, "cleanup", "--lock", lock)).toMatchObject({ code: 0 });
  });

  it("refuses a malformed interval", async () => {
    expect(await cli("--config", config, "cleanup", "--every", "soon")).toMatchObject({
      code: 2,
      stderr: "cloudce cleanup: --every: 'soon' is not a duration like 30s, 10m or 1h\n",
    });
  });
});
