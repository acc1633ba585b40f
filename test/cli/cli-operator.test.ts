/** The operator's side of the cloudce command: one clear line per error, and what an interrupted command says. */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CloudCore } from "../../src/ce/cloud-core.js";
import { CLI_TERMS } from "../../src/cli/load-ce.js";
import { CloudceError } from "../../src/errors.js";
import { transportError } from "../../src/drivers/http/transport.js";
import { IDENTITY_UNREACHABLE } from "../../src/drivers/openstack/http.js";
import { cli } from "./cli-harness.js";
import { oneLine, operatorFiles } from "./operator-setup.js";

const files = operatorFiles();

describe("errors: one line, the right exit code, JSON when asked", () => {
  it("a failure prints exactly one line on stderr, without a doubled prefix, saying why", async () => {
    const r = await cli(["--config", files.config, "submit", "-e", join(files.dir, "missing.sh")]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toBe(
      `cloudce submit: --executable: ${join(files.dir, "missing.sh")} does not exist; give the pilot script\n`,
    );
  });

  it("refuses an empty executable", async () => {
    const empty = join(files.dir, "empty.sh");
    await writeFile(empty, "");
    const r = await cli(["--config", files.config, "submit", "-e", empty]);
    expect(r).toMatchObject({
      code: 2,
      stderr: `cloudce submit: --executable: the pilot executable ${empty} is empty\n`,
    });
  });

  it("exits 2 on the parser's own usage errors, with one line", async () => {
    for (const argv of [
      ["submit", "-n", "-3", "-e", files.pilot],
      ["submit", "--numbr", "3"],
      ["--log-level", "loud", "status"],
      ["output", "cloud://a", "cloud://b"],
      ["kill"],
      ["serve"],
    ]) {
      const r = await cli(["--config", files.config, ...argv]);
      expect(r.code, argv.join(" ")).toBe(2);
      oneLine(r.stderr);
      expect(r.stdout).toBe("");
    }
    expect((await cli(["--config", files.config, "submit", "-n", "-3"])).stderr).toMatch(
      /^cloudce submit: option '-n, --number <n>' argument '-3' is invalid/,
    );
  });

  it("each command has its own help", async () => {
    const r = await cli(["submit", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: cloudce submit [options]");
    expect(r.stdout).toContain("--executable <file>");
  });

  it("under --json, errors are {OK, Message, Code} on stdout, as serve and the CE give them", async () => {
    const r = await cli(["--config", files.config, "--json", "submit", "-e", join(files.dir, "missing.sh")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      OK: false,
      Message: expect.stringContaining("does not exist"),
      Code: "OptionInvalid",
    });
    const usage = await cli(["--json", "--config", files.config, "launch"]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toMatchObject({ OK: false, Code: "OptionInvalid" });
    expect(JSON.parse(usage.stdout)).not.toHaveProperty("Errno");
  });

  it("names --proxy when the auth file says secret = PROXY and none was given", async () => {
    const auth = join(files.dir, "proxy.auth");
    await writeFile(auth, "[DEFAULT]\nkey = pilot\nsecret = PROXY\n", { mode: 0o600 });
    const driver = new URL("./fixtures/credentialed-driver.ts", import.meta.url).pathname;
    const conf = join(files.dir, "proxy.conf");
    await writeFile(
      conf,
      [
        `CloudType = ${driver}#CredentialedDriver`,
        `CloudAuth = ${auth}`,
        "Instance_Image = name:pilot-image",
        "Instance_Flavor = name:small",
      ].join("\n"),
    );
    const r = await cli(["--config", conf, "submit", "-e", files.pilot]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("no proxy was set: give the proxy file with --proxy FILE");
  });

  it("names Driver_ex_force_auth_url when Keystone cannot be reached", async () => {
    const auth = join(files.dir, "os.auth");
    await writeFile(auth, "[DEFAULT]\nkey = pilot\nsecret = pw\n", { mode: 0o600 });
    const os = join(files.dir, "os.conf");
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

  it("speaks the CLI's language: --proxy, not setProxy(); Driver_ex_force_auth_url for an unreachable Keystone", async () => {
    const core = new CloudCore("x", { terms: CLI_TERMS, metrics: null });
    const proxy = await core.proxySecondsLeft(1).catch((err: unknown) => err as CloudceError);
    expect(proxy).toBeInstanceOf(CloudceError);
    expect((proxy as CloudceError).code).toBe("ProxyMissing");
    expect((proxy as CloudceError).message).toContain("give the proxy file with --proxy FILE");
    expect((proxy as CloudceError).message).not.toContain("setProxy");
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
    const r = await cli(["--config", files.config, "--json", "submit", "-n", "5", "-e", files.pilot], {
      signal: stop.signal,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      refs: [],
      Interrupted: expect.stringContaining("submission interrupted: 0 of 5 pilots created"),
    });
    // Said once: the note, not a log line as well.
    expect(r.stderr).toMatch(/^warning: submission interrupted: 0 of 5 pilots created[^\n]*\n$/);
  });
});
