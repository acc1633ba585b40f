/** The one holder of a CE's proxy and token: shared by every store the CE builds, and the validity given with a proxy. */

import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialStore, HandedCredentials, MAX_VALID_SECONDS } from "../../src/auth/index.js";
import type { CloudceError } from "../../src/errors.js";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { makeProxyChain, type ProxyChain } from "./fixtures/proxy-chain.js";
import { captureLogs, makeTempDir, writeAuthFile } from "./helpers.js";

const capture = captureLogs();
const SECTION = "fedcloud.othersite.example";
let tmp: { dir: string; cleanup: () => Promise<void> };
let chain: ProxyChain;
let authFile: string;

beforeAll(async () => {
  tmp = await makeTempDir();
  chain = await makeProxyChain({ secondsLeft: 10 * 86_400 });
  authFile = await writeAuthFile(tmp.dir, "cloud.auth", SEED_AUTH_FILE);
});

afterAll(async () => {
  await tmp.cleanup();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as CloudceError).code;
  }
  return undefined;
}

describe("HandedCredentials", () => {
  it("bounds the proxy by the validity given with it, on the holder's clock", async () => {
    let now = Date.parse("2026-06-01T12:00:00Z");
    const handed = new HandedCredentials(() => now);
    await handed.setProxy(chain.proxyPem, 3600);
    expect(handed.proxyValidUntil?.toISOString()).toBe("2026-06-01T13:00:00.000Z");
    expect(handed.proxySecondsLeft(1000)).toBe(3600);
    expect(() => handed.proxySecondsLeft(4000)).toThrow(/validity given with it \(setProxy valid\) has 3600 s left/);
    now += 3600 * 1000;
    expect(codeOf(() => handed.proxySecondsLeft(1))).toBe("ProxyExpired");
    // A renewed proxy handed over without a validity is judged by its certificates alone.
    const renewed = await makeProxyChain({ secondsLeft: 10 * 86_400 });
    await handed.setProxy(renewed.proxyPem);
    expect(handed.proxyValidUntil).toBeUndefined();
    expect(handed.proxySecondsLeft(1000)).toBeGreaterThan(9 * 86_400);
    await handed.forget();
  });

  it("keeps the validity given when the proxy it holds is handed over again without one", async () => {
    const now = Date.parse("2026-06-01T12:00:00Z");
    const handed = new HandedCredentials(() => now);
    await handed.setProxy(chain.proxyPem, 3600);
    await handed.setProxy(chain.proxyPem);
    expect(handed.proxyValidUntil?.toISOString()).toBe("2026-06-01T13:00:00.000Z");
    expect(codeOf(() => handed.proxySecondsLeft(4000))).toBe("ProxyExpired");
    await handed.forget();
  });

  it("refuses a validity that is not seconds from 0 to a year, keeping the proxy it held", async () => {
    const handed = new HandedCredentials();
    await handed.setProxy(chain.proxyPem, 600);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, MAX_VALID_SECONDS + 1]) {
      await expect(handed.setProxy("other", bad)).rejects.toMatchObject({
        code: "ProxyInvalid",
        message: expect.stringMatching(/^setProxy: valid must be the proxy's validity in seconds, from 0/),
      });
    }
    expect(handed.proxy).toBe(chain.proxyPem);
    expect(handed.proxySecondsLeft(1)).toBeLessThanOrEqual(600);
    await handed.forget();
  });
});

describe("a CE's stores share one holder", () => {
  it("a store built after the proxy was set sees it, with nothing copied into it", async () => {
    const handed = new HandedCredentials();
    await handed.setProxy(chain.proxyPem);
    handed.setToken("bearer-token-value");
    const first = new CredentialStore({ authFile, section: SECTION, logger: capture.logger, handed });
    const path = await (await first.resolve()).proxyFile!();
    expect(await readFile(path, "utf8")).toBe(chain.proxyPem);
    // Closing the CE's store removes the file but leaves the holder's proxy for the next store.
    await first.close();
    await expect(stat(dirname(path))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(first.resolve().then((c) => c.proxyFile!())).rejects.toMatchObject({ code: "ProxyMissing" });
    const next = new CredentialStore({ authFile, section: SECTION, logger: capture.logger, handed });
    expect((await next.resolve()).proxy).toBe(chain.proxyPem);
    const renewed = await makeProxyChain({ secondsLeft: 7200 });
    await handed.setProxy(renewed.proxyPem);
    expect((await next.resolve()).proxy).toBe(renewed.proxyPem);
    await next.close();
    expect(handed.proxy).toBe(renewed.proxyPem);
    await handed.forget();
  });

  it("a store used on its own keeps its own holder and forgets it on close", async () => {
    const alone = new CredentialStore({ authFile, section: SECTION, logger: capture.logger });
    await alone.setProxy(chain.proxyPem, 600);
    expect(alone.checkProxy(1)).toBeLessThanOrEqual(600);
    await alone.close();
    expect(codeOf(() => alone.checkProxy(1))).toBe("ProxyMissing");
  });
});
