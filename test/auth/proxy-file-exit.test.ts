/**
 * A proxy that had to be written to a file is removed however the process
 * ends: a signal (SIGTERM, SIGINT, SIGHUP), or a normal exit.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixture, type RunningChild } from "../support/child.js";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { makeProxyChain } from "./fixtures/proxy-chain.js";
import { writeAuthFile } from "./helpers.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
let dir = "";
let authFile = "";
let pemFile = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-proxy-exit-"));
  authFile = await writeAuthFile(dir, "cloud.auth", SEED_AUTH_FILE);
  pemFile = join(dir, "proxy.pem");
  await writeFile(pemFile, (await makeProxyChain({ secondsLeft: 3600 })).proxyPem, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function holder(...extra: string[]): Promise<{ child: RunningChild; proxyDir: string }> {
  const child = await startFixture(
    "proxy-file-holder",
    [authFile, "fedcloud.othersite.example", pemFile, ...extra],
    FIXTURES,
  );
  const path = (await child.waitFor(/^PROXY (\S+)$/m))[1]!;
  await stat(path); // it exists while the process runs
  return { child, proxyDir: dirname(path) };
}

const gone = (path: string) =>
  stat(path).then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === "ENOENT",
  );

describe("the private proxy file at process end", () => {
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    it(`is removed on ${signal}, and the process still dies by the signal`, async () => {
      const { child, proxyDir } = await holder();
      child.child.kill(signal);
      expect(await child.exited).toEqual({ code: null, signal });
      expect(await gone(proxyDir)).toBe(true);
    });
  }

  it("is removed on SIGTERM without taking the signal from a handler of the process's own", async () => {
    const { child, proxyDir } = await holder("graceful");
    child.child.kill("SIGTERM");
    await child.waitFor(/STOPPING/);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await gone(proxyDir)).toBe(true);
  });

  it("is removed on a normal exit", async () => {
    const { child, proxyDir } = await holder();
    child.child.stdin!.end();
    expect((await child.exited).code).toBe(0);
    expect(await gone(proxyDir)).toBe(true);
  });
});
