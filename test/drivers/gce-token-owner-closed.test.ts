/**
 * GCE: the token shared by the drivers of a process is fetched with the
 * transport of the driver that started the fetch. Once that driver closes
 * (a CE object per request is shut down after it), another driver with the
 * same key still gets a token.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { TokenCache } from "../../src/drivers/gce/token-cache.js";
import type { AccessToken, TokenSource } from "../../src/drivers/gce/token-sources.js";
import type { NodeFilter } from "../../src/drivers/node-types.js";
import { monotonicNow } from "../../src/util/monotonic.js";
import { gceDriver, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer } from "../servers/gce/server.js";
import { heldSleep } from "../support/held-sleep.js";

const ANY: NodeFilter = { namePrefix: "", metadata: {} };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Its own server (so its own token endpoint and shared token) and key file. */
async function cloud(): Promise<{ server: GceServer; keyFile: string }> {
  const server = await startGceServer({ pendingMs: 10, runningMs: 10, bootMs: 20, stopMs: 10 });
  const dir = await mkdtemp(join(tmpdir(), "cloudce-gce-owner-closed-"));
  cleanups.push(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { server, keyFile: writeKeyFile(server, dir) };
}

/** A driver on the process's clock whose backoff waits until the test releases it. */
async function heldDriver(
  server: GceServer,
  keyFile: string,
): Promise<{ driver: CloudDriver; waiting: Promise<void>; release: () => void }> {
  const { sleep, waiting, release } = heldSleep();
  const driver = await gceDriver(server, keyFile, { deps: { clock: { now: monotonicNow, sleep } } });
  cleanups.push(() => driver.close());
  return { driver, waiting, release };
}

async function plainDriver(server: GceServer, keyFile: string): Promise<CloudDriver> {
  const driver = await gceDriver(server, keyFile);
  cleanups.push(() => driver.close());
  return driver;
}

it("a driver whose token another, since closed, was fetching gets one (the fetch was waiting to retry a 429)", async () => {
  const { server, keyFile } = await cloud();
  const a = await heldDriver(server, keyFile);
  server.inject({ call: "token", kind: "error", status: 429, times: 1 });
  const first = a.driver.listNodes(ANY);
  first.catch(() => undefined);
  await a.waiting;
  await a.driver.close();
  const b = await plainDriver(server, keyFile);
  const second = b.listNodes(ANY);
  // B fetches with its own client rather than wait on A's retry (which can only fail).
  await vi.waitFor(() => expect(server.calls["token"]).toBe(2), { timeout: 30_000 });
  a.release();
  await expect(second).resolves.toEqual([]);
  await expect(first).rejects.toThrow();
});

it("a driver gets the token another fetched before it closed, without fetching again", async () => {
  const { server, keyFile } = await cloud();
  const a = await plainDriver(server, keyFile);
  await a.listNodes(ANY);
  await a.close();
  const b = await plainDriver(server, keyFile);
  await expect(b.listNodes(ANY)).resolves.toEqual([]);
  expect(server.calls["token"]).toBe(1);
});

it("while the fetching driver lives, the others wait on its fetch rather than fetch again", async () => {
  const { server, keyFile } = await cloud();
  const a = await heldDriver(server, keyFile);
  server.inject({ call: "token", kind: "error", status: 429, times: 1 });
  const first = a.driver.listNodes(ANY);
  await a.waiting;
  const b = await plainDriver(server, keyFile);
  const second = b.listNodes(ANY);
  a.release();
  await expect(Promise.all([first, second])).resolves.toEqual([[], []]);
  expect(server.calls["token"]).toBe(2);
});

/** A token source of the one credential whose fetch the test settles, and which says when a cache picks it up. */
function source(fetch: () => Promise<AccessToken>): { source: TokenSource; picked: Promise<void> } {
  let picked!: () => void;
  const pickedUp = new Promise<void>((r) => {
    picked = r;
  });
  const src: TokenSource = {
    describe: "a test credential",
    // Read right before the cache joins the shared fetch (in the same synchronous run).
    get identity() {
      picked();
      return "one-credential";
    },
    projectId: async () => undefined,
    fetch,
  };
  return { source: src, picked: pickedUp };
}

it("a cache waiting on the fetch of another that closes, whose fetch then fails, fetches with its own", async () => {
  const now = (): number => monotonicNow();
  let failA!: (err: Error) => void;
  const a = source(
    () =>
      new Promise<AccessToken>((_, reject) => {
        failA = reject;
      }),
  );
  const b = source(async () => ({ token: "b-token", lifetimeMs: 3_600_000 }));
  const cacheA = new TokenCache(async () => a.source, now);
  const cacheB = new TokenCache(async () => b.source, now);
  const first = cacheA.token();
  first.catch(() => undefined);
  await a.picked;
  const second = cacheB.token();
  await b.picked;
  cacheA.forget();
  failA(new Error("The client is destroyed"));
  await expect(second).resolves.toBe("b-token");
  await expect(first).rejects.toThrow("destroyed");
  // The token B fetched is the one shared from now on.
  expect(await new TokenCache(async () => a.source, now).token()).toBe("b-token");
});
