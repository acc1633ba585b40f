/**
 * Which calls the driver runtime hedges: a held look-up, listing or single
 * delete gets one duplicate; a held create never does (a duplicate would
 * make a pilot twice), nor a delete of several ids in one call, nor any call
 * with Cloud_Hedge off. The timers are vitest's fake ones: deterministic.
 */

import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { DriverRuntime } from "../../src/ce/driver-runtime.js";
import { resetEndpointHedges } from "../../src/ce/hedge.js";
import type { BulkResult, CloudDriver, CloudNode, CreateNodesResult } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";

/** Calls the stub received per method; each answers when the test says so. */
const held = new Map<string, ((v: unknown) => void)[]>();
const hold = <T>(method: string): Promise<T> =>
  new Promise<T>((resolve) => {
    held.set(method, [...(held.get(method) ?? []), resolve as (v: unknown) => void]);
  });
const sent = (method: string): number => held.get(method)?.length ?? 0;

const stub = {
  name: "HEDGE_STUB",
  endpoint: "https://stub.example.org",
  capabilities: { bulkDestroy: true },
  createNodes: () => hold<CreateNodesResult>("create"),
  getNode: () => hold<CloudNode | undefined>("lookup"),
  listNodes: () => hold<CloudNode[]>("list"),
  destroyNodes: () => hold<BulkResult>("delete"),
  close: async () => undefined,
  ...Object.fromEntries(
    ["listImages", "listFlavors", "listNetworks", "stopNodes", "getConsoleOutput", "getLimits"].map((m) => [
      m,
      () => Promise.reject(new Error(`${m} is not used here`)),
    ]),
  ),
} as unknown as CloudDriver;

/** Waits (on the event loop, never on the faked timers) until the stub received `n` calls of `method`. */
async function until(method: string, n: number): Promise<void> {
  while (sent(method) < n) await new Promise((resolve) => setImmediate(resolve));
  expect(sent(method)).toBe(n);
}

registerDriver("HEDGE_STUB", () => stub);

function runtime(hedge = true): DriverRuntime {
  return new DriverRuntime({
    cloudType: "HEDGE_STUB",
    callsPerSecond: 0,
    maxConcurrency: 4,
    hedge,
    config: {
      options: {},
      credentials: async () => ({}) as never,
      ceName: "ce-hedge.example.org",
      logger: silentLogger,
      requestTimeoutMs: 30_000,
    },
  });
}

/** Runs `n` calls of `method` that answer at once, so the endpoint knows its pace. */
async function warm(method: string, n: number, call: () => Promise<unknown>, answer: unknown): Promise<void> {
  for (let i = 0; i < n; i++) {
    const p = call();
    await until(method, i + 1);
    held.get(method)![i]!(answer);
    await p;
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  held.clear();
  resetEndpointHedges();
});
afterEach(() => {
  vi.useRealTimers();
});

const node = { id: "vm-1" } as CloudNode;
const created: CreateNodesResult = { nodes: [node], failed: [] } as unknown as CreateNodesResult;

it("sends one duplicate of a held look-up, and answers with it", async () => {
  const rt = runtime();
  await warm("lookup", 5, () => rt.limited("lookup", (d) => d.getNode("vm-1")), node);
  const p = rt.limited("lookup", (d) => d.getNode("vm-1"));
  await until("lookup", 6);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(sent("lookup")).toBe(7);
  held.get("lookup")![6]!(node);
  await expect(p).resolves.toBe(node);
});

it("never duplicates a create, however long it is held", async () => {
  const rt = runtime();
  // Even a caller that asks for hedging gets none for a create.
  await warm("create", 5, () => rt.limited("create", (d) => d.createNodes({} as never), undefined, {}), created);
  const p = rt.limited("create", (d) => d.createNodes({} as never), undefined, {});
  await until("create", 6);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(sent("create")).toBe(6);
  held.get("create")![5]!(created);
  await p;
});

it("duplicates a held single delete and a held listing, never a delete of several ids", async () => {
  const rt = runtime();
  const done: BulkResult = { done: ["vm-1"], failed: [] };
  const one = (): Promise<unknown> => rt.destroy(["vm-1"], 1);
  await warm("delete", 5, one, done);
  const p = rt.destroy(["vm-1"], 1);
  await until("delete", 6);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(sent("delete")).toBe(7);
  held.get("delete")![6]!({ done: ["vm-1"], failed: [] });
  await expect(p).resolves.toEqual({ done: ["vm-1"], failed: [], gone: [], notTried: [] });
  held.get("delete")![5]!({ done: ["vm-1"], failed: [] });

  const many = rt.destroy(["vm-1", "vm-2"], 1);
  await until("delete", 8);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(sent("delete")).toBe(8);
  held.get("delete")![7]!({ done: ["vm-1", "vm-2"], failed: [] });
  await many;

  const filter = { namePrefix: "P_", metadata: {} };
  await warm("list", 5, () => rt.listOwn(filter), []);
  const listing = rt.listOwn(filter);
  await until("list", 6);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(sent("list")).toBe(7);
  held.get("list")![6]!([]);
  await expect(listing).resolves.toEqual([]);
  held.get("list")![5]!([]);

  // Another CE's listing (another prefix, many pages) has its own pace: none known yet, no duplicate,
  // though the budget allows one.
  for (let i = 7; i < 17; i++) {
    const fast = rt.listOwn(filter);
    await until("list", i + 1);
    held.get("list")![i]!([]);
    await fast;
  }
  const other = rt.listOwn({ namePrefix: "Q_", metadata: {} });
  await until("list", 18);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(sent("list")).toBe(18);
  held.get("list")![17]!([]);
  await other;
});

it("sends no duplicate with Cloud_Hedge off", async () => {
  const rt = runtime(false);
  await warm("lookup", 5, () => rt.limited("lookup", (d) => d.getNode("vm-1")), node);
  const p = rt.limited("lookup", (d) => d.getNode("vm-1"));
  await until("lookup", 6);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(sent("lookup")).toBe(6);
  held.get("lookup")![5]!(node);
  await p;
});
