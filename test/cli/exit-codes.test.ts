/**
 * Walks the exit-code table (src/cli/exit-codes.ts, printed in the README):
 * for every row, a command that ends with that status, and its output.
 * Every usage mistake is one line naming the flag and the fix.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATE_PATH } from "../../src/context/index.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { acquireLock } from "../../src/util/lock.js";
import { DEMO_CREDENTIALS } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer } from "../servers/openstack/server.js";
import { startFixture } from "../support/child.js";
import { until } from "../support/wait.js";
import { cli as run, type CliRun } from "./cli-harness.js";

const CLI = new URL("../../src/cli/", import.meta.url);
let dir: string;
let config: string;
let pilot: string;
const seen = new Set<number>();
const made: string[] = [];

async function cli(...argv: string[]): Promise<CliRun> {
  const r = await run(argv);
  seen.add(r.code);
  return r;
}

async function flatConfig(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join("\n"));
  return path;
}

/** A flat OpenStack CE file for the test cloud (or a hung one) at `authUrl`, with its auth file. */
async function openStackConfig(name: string, authUrl: string, extra: string[]): Promise<string> {
  const auth = join(dir, `${name}-auth.ini`);
  const { key, secret } = DEMO_CREDENTIALS;
  await writeFile(auth, `[DEFAULT]\nkey = ${key}\nsecret = ${secret}\n`, { mode: 0o600 });
  return flatConfig(`${name}.conf`, [
    `CE = ${name}.example.org`,
    "CloudType = OPENSTACK",
    `CloudAuth = ${auth}`,
    `Driver_ex_force_auth_url = ${authUrl}`,
    "Driver_ex_force_auth_version = 3.x_password",
    "Driver_ex_tenant_name = demo",
    `Context_Template = ${DEFAULT_TEMPLATE_PATH}`,
    ...extra,
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-exit-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\nsleep 30\n");
  config = await flatConfig("ce.conf", [
    "CE = exit-codes.example.org",
    "Queue = short",
    "CloudType = LOCAL",
    `Driver_state_dir = ${join(dir, "local")}`,
    "Driver_max_instances = 2",
    "Instance_Image = name:el9-pilot",
    "Instance_Flavor = name:small",
    "MaxTotalJobs = 10",
    "MaxWaitingJobs = 10",
    `Journal_File = ${join(dir, "journal.jsonl")}`,
  ]);
});

afterAll(async () => {
  if (made.length > 0) await run(["--config", config, "kill", ...made]);
  expect(
    [...seen].sort((a, b) => a - b),
    "every row of the table was walked",
  ).toEqual(EXIT_CODES.flatMap((r) => r.codes).sort((a, b) => a - b));
});

describe("the exit-code table", () => {
  it("0: success", async () => {
    const r = await cli("--config", config, "validate");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(
      /configuration is valid \(offline: image, flavor, networks and quota on the cloud were not checked; --online checks them\)/,
    );
  });

  it("0: a cleanup --every loop ends at its signal, its normal end", async () => {
    const stop = new AbortController();
    const argv = [
      "--config",
      config,
      "--log-level",
      "info",
      "cleanup",
      "--every",
      "10s",
      "--lock",
      join(dir, "l.lock"),
    ];
    const r = await run(argv, {
      signal: stop.signal,
      // Stopped once running, as a supervisor's SIGTERM would.
      onStderr: (soFar) => void (soFar.includes("cleanup loop started") ? stop.abort() : undefined),
    });
    seen.add(r.code);
    expect(r.code, r.stderr).toBe(0);
  });

  it("0: a CE without slots says why once, in the table, not a log line too", async () => {
    const none = await flatConfig("noslots.conf", [
      "CloudType = LOCAL",
      `Driver_state_dir = ${join(dir, "local")}`,
      "Instance_Image = x",
      "Instance_Flavor = name:small",
    ]);
    const r = await cli("--config", none, "status");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /slots available: 0 \(cannot read the cloud's limits: Instance_Image: no image with id 'x'/,
    );
    expect(r.stderr).toBe("");
  });

  it("1: failure, one line; --json validate gives the problems as a list", async () => {
    const bad = await flatConfig("bad.conf", [
      "CloudType = LOCAL",
      "Instance_Image = name:el9-pilot",
      "Instance_Flavour = name:small",
      "MaxWaitingjobs = 3",
    ]);
    const r = await cli("--config", bad, "validate");
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    const j = await cli("--config", bad, "--json", "validate");
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as { valid: boolean; problems: string[] };
    expect(doc.valid).toBe(false);
    expect(doc.problems.length).toBeGreaterThanOrEqual(2);
    expect(doc.problems.every((p) => !p.includes("; "))).toBe(true);
  });

  it("2: a --queue a flat file does not hold is a usage error, naming the file's queue", async () => {
    const r = await cli("--config", config, "--queue", "nosuch", "status");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^cloudce status: .*ce\.conf: --queue nosuch: a flat file holds one queue and this one says Queue = short \(line 2\); drop --queue.*\n$/,
    );
  });

  it.each([
    [["-n", "2", "submit"], /^cloudce submit: -n is an option of submit: put it after the command name/],
    [["status", "--every", "1m"], /^cloudce status: --every is an option of cleanup, not of status/],
    [
      ["report", "--plot", "out.png"],
      /^cloudce report: --plot: out\.png: the timeline is an SVG drawing; name the file \.svg/,
    ],
    [["cleanup", "--jitter", "1m"], /^cloudce cleanup: --jitter needs --every/],
    [["cleanup", "--every", "10s", "--jitter", "20s"], /^cloudce cleanup: --jitter: '20s' is longer than --every 10s/],
    [
      ["serve", "--stdio", "--drain-seconds", "-1"],
      /^cloudce serve: .*'-1' is not a whole number of seconds >= 0 \(--drain-seconds 0 does not wait\); see cloudce serve --help$/m,
    ],
    [
      ["submit", "--executable", "/dev/zero"],
      /^cloudce submit: --executable: \/dev\/zero is not a regular file; give the pilot script/,
    ],
    [
      ["submit", "--executable", "/nonexistent/pilot.sh"],
      /^cloudce submit: --executable: \/nonexistent\/pilot\.sh does not exist/,
    ],
    [
      ["--proxy", "/nonexistent/x509", "status"],
      /^cloudce status: --proxy: \/nonexistent\/x509 does not exist; give the proxy PEM file/,
    ],
  ])("2: usage, one line: %j", async (argv, line) => {
    const r = await cli("--config", config, ...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("2: usage, an empty or missing --config", async () => {
    const empty = await cli("--config", "", "status");
    expect(empty).toMatchObject({
      code: 2,
      stderr:
        "cloudce status: --config: the path is empty; give the CE configuration file (flat Key = Value or DIRAC CFG), or set $CLOUDCE_CONFIG\n",
    });
    const missing = await cli("--config", join(dir, "nope.conf"), "status");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^cloudce status: --config: .*nope\.conf does not exist/);
  });

  it("3: partial, a submit that made fewer pilots than asked says how many and why", async () => {
    const r = await cli("--config", config, "--json", "submit", "-n", "3", "--executable", pilot);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as { refs: string[]; Partial: string };
    made.push(...doc.refs);
    expect(doc.refs).toHaveLength(2);
    expect(doc.Partial).toBe("2 of 3 pilots created; 1 not: QuotaExceeded");
    expect(r.stderr).toContain("\nwarning: 2 of 3 pilots created; 1 not: QuotaExceeded\n");
  });

  it("3: partial, a kill or a cleanup where one delete of two fails; 1 when every delete fails", async () => {
    const cloud = await startOpenStackServer({ bootMs: 10, stopMs: 10, deleteMs: 10 });
    try {
      const os = await openStackConfig("partial", cloud.authUrl, [
        "Instance_Image = name:cirros-fake",
        "Instance_Flavor = name:m1.tiny",
        "Instance_Networks = name:private",
        "Submit_Concurrency = 1",
      ]);
      const submitted = async (): Promise<string[]> =>
        (
          JSON.parse((await cli("--config", os, "--json", "submit", "-n", "2", "--executable", pilot)).stdout) as {
            refs: string[];
          }
        ).refs;
      const forbidOne = (times = 1): void =>
        cloud.faults.add({ route: "compute DELETE /servers/{id}", kind: "status", status: 403, times });
      const refs = await submitted();
      forbidOne();
      const kill = await cli("--config", os, "--json", "kill", ...refs);
      expect(kill.code).toBe(3);
      const report = JSON.parse(kill.stdout) as { killed: string[]; failed: { ref: string; error: string }[] };
      expect(report.killed).toHaveLength(1);
      expect(report.failed).toHaveLength(1);
      const text = await cli("--config", os, "kill", report.failed[0]!.ref.replace("cloud://", ""));
      expect(text.code).toBe(0);
      forbidOne(Number.POSITIVE_INFINITY);
      const none = await cli("--config", os, "kill", ...(await submitted()));
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/^cloudce kill: failed to kill 2 of 2 pilots: /);
      cloud.faults.clear();
      await submitted();
      for (const s of cloud.state.servers.values()) s.stopAt = Date.now() - 1000;
      forbidOne();
      const clean = await cli("--config", os, "cleanup", "--lock", join(dir, "os.lock"));
      expect(clean.code).toBe(3);
      expect(clean.stdout).toMatch(/failed: /);
    } finally {
      await cloud.close();
    }
  });

  it("75: lock held", async () => {
    const lock = join(dir, "cleanup.lock");
    const held = await acquireLock(lock);
    try {
      const r = await cli("--config", config, "cleanup", "--lock", lock);
      expect(r.code).toBe(75);
    } finally {
      await held.release();
    }
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s: interrupted, even when the cloud never answers", async (sig, code) => {
    // A cloud that accepts connections and never answers.
    const sockets = new Set<import("node:net").Socket>();
    const hung: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    const port = (hung.address() as { port: number }).port;
    const hungConfig = await openStackConfig(`hung-${sig}`, `http://127.0.0.1:${port}/v3`, [
      "Instance_Image = name:x",
      "Instance_Flavor = name:y",
      "Cloud_RequestTimeout = 3",
    ]);
    try {
      const child = await startFixture(
        "main",
        ["--config", hungConfig, "--json", "submit", "--executable", pilot],
        CLI,
      );
      await until(() => {
        if (child.child.exitCode !== null)
          throw new Error(`the command ended before it reached the cloud: ${child.stdout()}`);
        return sockets.size > 0;
      }, "the command to reach the cloud");
      child.child.kill(sig);
      const exit = await child.exited;
      expect(exit.code).toBe(code);
      seen.add(exit.code!);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hung.close(r));
    }
  });
});
