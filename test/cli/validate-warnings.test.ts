import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validate } from "../../src/cli/commands-tools.js";
import type { Output } from "../../src/cli/output.js";
import { START, harness } from "../ce/policy-harness.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";
import { cli } from "./cli-harness.js";

function capture(): Output & { lines: string[]; results: unknown[] } {
  const lines: string[] = [];
  const results: unknown[] = [];
  const ignore = (): void => undefined;
  const out: Output & { lines: string[]; results: unknown[] } = {
    json: false,
    lines,
    results,
    progress: (l) => lines.push(l),
    warn: (l) => lines.push(`warning: ${l}`),
    result: (v) => results.push(v),
    section: ignore,
    ticker: ignore,
    tickerDone: ignore,
    timed: () => out,
  };
  return out;
}

const jwt = (exp: number): string => `e30.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.c2ln`;

describe("cloudce validate", () => {
  it("prints a warning line per credential that runs out within Credential_WarnDays, and stays valid", async () => {
    const h = await harness();
    await h.ce.setToken(jwt(Math.floor(START / 1000) + 2 * 86_400));
    const out = capture();
    await validate(h.ce, out);
    expect(out.lines).toEqual([
      expect.stringMatching(
        /^warning: the token expires in 2 d 0 h \(at 2026-06-03T12:00:00.000Z; Credential_WarnDays 7\): renew it$/,
      ),
    ]);
    expect(out.results).toEqual([
      { ce: h.ce.ceName, valid: true, online: false, warnings: [expect.any(String)], notChecked: expect.any(String) },
    ]);
  });

  it("fails, naming the credential, once it has expired", async () => {
    const h = await harness();
    await h.ce.setToken(jwt(Math.floor(START / 1000) - 60));
    await expect(validate(h.ce, capture())).rejects.toThrow(
      /is not valid: credentials: the token expired at 2026-06-01T11:59:00.000Z/,
    );
  });
});

describe("cloudce --proxy FILE", () => {
  it("warns that the proxy file runs out, naming the file an admin renews", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-proxyfile-"));
    const chain = await makeProxyChain({ secondsLeft: 2 * 86_400 });
    const proxy = join(dir, "pilot.proxy");
    await writeFile(proxy, chain.proxyPem);
    const conf = join(dir, "ce.conf");
    await writeFile(
      conf,
      [
        "CE = proxy-file.example.org",
        "CloudType = LOCAL",
        `Driver_state_dir = ${join(dir, "local")}`,
        "Instance_Image = name:el9-pilot",
        "Instance_Flavor = name:small",
      ].join("\n"),
    );
    const r = await cli(["--config", conf, "--proxy", proxy, "validate"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`the proxy file ${proxy.replace(/[.]/g, "\\.")} expires in (1 d 23 h|2 d 0 h) .*: renew it`),
    );
  });
});
