/** The operator's side of the cloudce command: one clear line per error, guard rails, status, progress, demo, metrics file. */

import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliMessage } from "../../src/cli/cli-errors.js";
import { CloudceError } from "../../src/errors.js";
import { transportError } from "../../src/drivers/http/transport.js";
import { IDENTITY_UNREACHABLE } from "../../src/drivers/openstack/http.js";
import { readJournal } from "../../src/ops/journal.js";
import { cli } from "./cli-harness.js";
import { until } from "../support/wait.js";

let dir: string;
let config: string;
let journal: string;
let pilot: string;
let quick: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-op-"));
  config = join(dir, "ce.conf");
  journal = join(dir, "journal.jsonl");
  pilot = join(dir, "pilot.sh");
  quick = join(dir, "quick.sh");
  await writeFile(pilot, "#!/bin/bash\nsleep 30\n");
  await writeFile(quick, "#!/bin/bash\necho quick pilot done\n");
  await writeFile(
    config,
    [
      "CE = op-test.example.org",
      "CloudType = LOCAL",
      "Driver_state_dir = local",
      "Instance_Image = name:el9-pilot",
      "Instance_Flavor = name:small",
      "MaxTotalJobs = 10",
      "MaxWaitingJobs = 10",
      "Journal_File = journal.jsonl",
    ].join("\n"),
  );
});

const oneLine = (text: string): void => expect(text.split("\n").filter((l) => l !== "")).toHaveLength(1);

describe("errors: one line, the right exit code, JSON when asked", () => {
  it("a failure prints exactly one line on stderr, without a doubled prefix, saying why", async () => {
    const r = await cli(["--config", config, "submit", "-e", join(dir, "missing.sh")]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toBe(
      `cloudce submit: --executable: ${join(dir, "missing.sh")} does not exist; give the pilot script\n`,
    );
  });

  it("refuses an empty executable", async () => {
    const empty = join(dir, "empty.sh");
    await writeFile(empty, "");
    const r = await cli(["--config", config, "submit", "-e", empty]);
    expect(r).toMatchObject({
      code: 2,
      stderr: `cloudce submit: --executable: the pilot executable ${empty} is empty\n`,
    });
  });

  it("exits 2 on the parser's own usage errors, with one line", async () => {
    for (const argv of [
      ["submit", "-n", "-3", "-e", pilot],
      ["submit", "--numbr", "3"],
      ["--log-level", "loud", "status"],
      ["output", "cloud://a", "cloud://b"],
      ["kill"],
      ["serve"],
    ]) {
      const r = await cli(["--config", config, ...argv]);
      expect(r.code, argv.join(" ")).toBe(2);
      oneLine(r.stderr);
      expect(r.stdout).toBe("");
    }
    expect((await cli(["--config", config, "submit", "-n", "-3"])).stderr).toMatch(
      /^cloudce submit: option '-n, --number <n>' argument '-3' is invalid/,
    );
  });

  it("each command has its own help", async () => {
    const r = await cli(["submit", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: cloudce submit [options]");
    expect(r.stdout).toContain("--executable <file>");
  });

  it("under --json, errors are {OK, Message, Errno} on stdout", async () => {
    const r = await cli(["--config", config, "--json", "submit", "-e", join(dir, "missing.sh")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      OK: false,
      Message: expect.stringContaining("does not exist"),
      Errno: "OptionInvalid",
    });
    const usage = await cli(["--json", "--config", config, "launch"]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toMatchObject({ OK: false, Errno: "OptionInvalid" });
  });

  it("names --proxy when the auth file says secret = PROXY and none was given", async () => {
    const auth = join(dir, "proxy.auth");
    await writeFile(auth, "[DEFAULT]\nkey = pilot\nsecret = PROXY\n", { mode: 0o600 });
    const driver = new URL("./fixtures/credentialed-driver.ts", import.meta.url).pathname;
    const conf = join(dir, "proxy.conf");
    await writeFile(
      conf,
      [
        `CloudType = ${driver}#CredentialedDriver`,
        `CloudAuth = ${auth}`,
        "Instance_Image = name:pilot-image",
        "Instance_Flavor = name:small",
      ].join("\n"),
    );
    const r = await cli(["--config", conf, "submit", "-e", pilot]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("no proxy was set: give the proxy file with --proxy FILE");
  });

  it("names Driver_ex_force_auth_url when Keystone cannot be reached", async () => {
    const auth = join(dir, "os.auth");
    await writeFile(auth, "[DEFAULT]\nkey = pilot\nsecret = pw\n", { mode: 0o600 });
    const os = join(dir, "os.conf");
    await writeFile(
      os,
      [
        "CloudType = OPENSTACK",
        `CloudAuth = ${auth}`,
        "Driver_ex_force_auth_url = http://127.0.0.1:9",
        "Driver_ex_tenant_name = p",
        "Instance_Image = name:x",
        "Instance_Flavor = name:y",
        "Cloud_RequestTimeout = 2",
      ].join("\n"),
    );
    const r = await cli(["--config", os, "validate", "--online"]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("check Driver_ex_force_auth_url");
  });

  it("speaks the CLI's language: --proxy, not setProxy(); Driver_ex_force_auth_url for an unreachable Keystone", () => {
    const proxy = new CloudceError(
      "ProxyMissing",
      "CloudAuth: the auth section for x says secret = PROXY, but no proxy was set: call setProxy() first",
    );
    expect(cliMessage(proxy)).toContain("give the proxy file with --proxy FILE");
    expect(cliMessage(proxy)).not.toContain("setProxy");
    const refused = transportError(
      "OPENSTACK",
      "identity POST /v3/auth/tokens",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      { prefix: "", timeoutMs: 1000, hint: IDENTITY_UNREACHABLE },
    );
    expect(refused.message).toContain("Driver_ex_force_auth_url");
  });
});

describe("interrupting a command", () => {
  it("an interrupted submit prints what it created (nothing here) and says it was interrupted", async () => {
    const stop = new AbortController();
    stop.abort();
    const r = await cli(["--config", config, "--json", "submit", "-n", "5", "-e", pilot], { signal: stop.signal });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      refs: [],
      Interrupted: expect.stringContaining("submission interrupted: 0 of 5 pilots created"),
    });
    // Said once: the note, not a log line as well.
    expect(r.stderr).toMatch(/^warning: submission interrupted: 0 of 5 pilots created[^\n]*\n$/);
  });
});

describe("guard rails", () => {
  it("refuses --every 0 and anything under the 10 s minimum", async () => {
    for (const every of ["0", "1s", "500ms"]) {
      expect(await cli(["--config", config, "cleanup", "--every", every])).toMatchObject({
        code: 2,
        stderr: `cloudce cleanup: --every: '${every}' is too short; use at least 10s\n`,
      });
    }
  });

  it.each(["99999d", "25d", "2147483648ms"])(
    "cleanup --every %s (over Node's longest timer) is refused in one line",
    async (every) => {
      expect(await cli(["--config", config, "cleanup", "--every", every])).toMatchObject({
        code: 2,
        stderr: `cloudce cleanup: --every: '${every}' is too long; use at most 24d (Node's longest timer, 2^31-1 ms)\n`,
      });
    },
  );

  it("cleanup --jitter over Node's longest timer is refused in one line", async () => {
    const r = await cli(["--config", config, "cleanup", "--every", "1h", "--jitter", "30d"]);
    expect(r).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce cleanup: --jitter: '30d' is too long; use at most 24d[^\n]*\n$/),
    });
  });

  it("--lock and --journal at a directory or under a missing folder get a clear error", async () => {
    expect(await cli(["--config", config, "cleanup", "--lock", dir])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce cleanup: --lock: .* is a directory; give the path of a file/),
    });
    expect(await cli(["--config", config, "cleanup", "--lock", join(dir, "no", "x.lock")])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce cleanup: --lock: the folder .*no does not exist/),
    });
    expect(await cli(["--config", config, "--journal", dir, "report"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce report: --journal: .* is a directory/),
    });
    expect(await cli(["--config", config, "--journal", join(dir, "no", "j.jsonl"), "report"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--journal: the folder .* does not exist/),
    });
  });

  it("report --plot into a missing folder gets a clear error", async () => {
    const r = await cli(["--config", config, "report", "--plot", join(dir, "nope", "t.svg")]);
    expect(r).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce report: --plot: the folder .*nope does not exist/),
    });
  });

  it("a typo'd --journal warns that the file does not exist", async () => {
    const r = await cli(["--config", config, "--journal", join(dir, "jornal.jsonl"), "report"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: the journal .*jornal\.jsonl does not exist/);
  });

  it("kill and status of a reference the cloud never had say so, and journal nothing", async () => {
    const k = await cli(["--config", config, "kill", "cloud://never-was"]);
    expect(k.code).toBe(0);
    expect(k.stdout).toContain("nothing to kill: this CE never created it");
    const s = await cli(["--config", config, "status", "cloud://never-was"]);
    expect(s.stdout).toContain("this CE never created it");
    const { entries } = await readJournal(journal).catch(() => ({ entries: [] }));
    expect(entries.filter((e) => e.ref === "cloud://never-was")).toEqual([]);
  });
});

describe("seeing what is going on", () => {
  it("status fits 80 columns, sorts by state then age, and counts every status and the slots", async () => {
    const sub = await cli(["--config", config, "--json", "submit", "-n", "3", "-e", pilot]);
    const { refs } = JSON.parse(sub.stdout) as { refs: string[] };
    const table = await cli(["--config", config, "status"]);
    for (const line of table.stdout.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(table.stdout).not.toContain(refs[0]);
    expect(table.stdout).toMatch(/3 pilot VMs: \d Waiting, \d Running, 0 Done, 0 Aborted, 0 Deleted, 0 Unknown/);
    expect(table.stdout).toMatch(/slots available: 7\n$/);
    const wide = await cli(["--config", config, "status", "--wide"]);
    for (const r of refs) expect(wide.stdout).toContain(r);
    const short = /cloud:\/\/\S{8}…/.exec(table.stdout)![0];
    const one = JSON.parse((await cli(["--config", config, "--json", "status", short])).stdout) as {
      statuses: Record<string, string>;
    };
    expect(refs).toContain(Object.keys(one.statuses)[0]);
    await cli(["--config", config, "kill", ...refs]);
  });

  it("submit and cleanup show progress on a terminal and stay quiet when piped", async () => {
    const tty = await cli(["--config", config, "submit", "-n", "2", "-e", quick], { tty: true });
    expect(tty.stderr).toContain("created 2/2");
    const piped = await cli(["--config", config, "submit", "-n", "1", "-e", quick]);
    expect(piped.stderr).not.toContain("created");
    await until(async () => {
      const s = JSON.parse((await cli(["--config", config, "--json", "status"])).stdout) as {
        pilots: { status: string }[];
      };
      return s.pilots.every((p) => p.status === "Done");
    }, "every pilot Done");
    const cleaned = await cli(["--config", config, "cleanup"], { tty: true });
    expect(cleaned.stderr).toContain("deleted 3/3");
  });

  it("loop lines carry a timestamp and the CE name", async () => {
    const stop = new AbortController();
    const onStderr = (soFar: string): void => {
      if (soFar.includes("cleanup loop started")) stop.abort();
    };
    const running = cli(
      ["--config", config, "--log-level", "info", "cleanup", "--every", "10s", "--lock", join(dir, "loop.lock")],
      { signal: stop.signal, onStderr },
    );
    const r = await running;
    expect(r.code).toBe(0);
    const lines = r.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["cleanup loop started", "cleanup loop stopped"]),
    );
    for (const l of lines)
      expect(l).toMatchObject({ ce: "op-test.example.org", time: expect.stringMatching(/^\d{4}-/) });
  });

  it("demo puts step headers and tables on one stream in order, and --json is one document", async () => {
    const r = await cli(["--config", config, "demo", "-n", "1", "-e", quick, "--timeout", "20"]);
    expect(r.code, r.stderr).toBe(0);
    const steps = [...r.stdout.matchAll(/^== (\d)\./gm)].map((m) => Number(m[1]));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.stdout.indexOf("configuration is valid")).toBeGreaterThan(r.stdout.indexOf("== 1."));
    expect(r.stdout.indexOf("quick pilot done")).toBeGreaterThan(r.stdout.indexOf("== 5."));
    const j = await cli(["--config", config, "--json", "demo", "-n", "1", "-e", quick, "--timeout", "20"]);
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout) as { steps: { step: string; results: unknown[] }[] };
    expect(doc.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(["validate the configuration", "submit pilots", "clean up stopped VMs"]),
    );
  });

  it("a one-shot run writes its metrics for the textfile collector", async () => {
    const prom = join(dir, "metrics", "cloudce.prom");
    await mkdir(join(dir, "metrics"));
    expect((await cli(["--config", config, "--metrics-file", prom, "status"])).code).toBe(0);
    const text = await readFile(prom, "utf8");
    expect(text).toMatch(
      /cloudce_cloud_calls_total\{[^}]*ce="op-test.example.org"[^}]*operation="listNodes"[^}]*\} \d+/,
    );
  });
});

describe("bounded counts", () => {
  it("submit -n beyond one submission's bound is a usage error naming the bound, and nothing is created", async () => {
    const r = await cli(["--config", config, "submit", "-n", "1000000000", "-e", quick]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("'1000000000' is more than one submission creates (10000)");
  });
});
