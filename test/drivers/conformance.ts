/**
 * The shared driver conformance suite. Every driver, built in or a user's,
 * calls {@link testDriver} from its own test file:
 *
 *   testDriver({ name: "LOCAL", setup: async () => ({ driver, imageId, … }) });
 *
 * It checks the contract in src/drivers/driver.ts, against the real backend
 * the setup starts (a local state directory, a test-tree cloud server, …).
 */

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CAPACITY_ERROR_CODES,
  NODE_STATES,
  type CloudDriver,
  type CloudNode,
  type CreateNodesResult,
  type NodeState,
} from "../../src/drivers/driver.js";
import { isCloudceError } from "../../src/errors.js";
import { refusalChecks } from "./conformance-refusals.js";
import { HANG_GUARD_MS } from "../support/wait.js";

export interface ConformanceFixture {
  readonly driver: CloudDriver;
  /** An image, flavor and network(s) that exist, by id and by name. */
  readonly image: { readonly id: string; readonly name: string };
  readonly flavor: { readonly id: string; readonly name: string };
  readonly networks: readonly { readonly id: string; readonly name: string }[];
  /** An id the cloud has never issued, in its id format. */
  readonly unknownNodeId: string;
  /** An image and a flavor id in the cloud's format that it does not have (see conformance-refusals.ts). */
  readonly unknownImageId?: string;
  readonly unknownFlavorId?: string;
  /**
   * Makes the cloud lack capacity for the fixture's flavor (optional: a
   * backend that cannot simulate it skips that check).
   */
  readonly exhaustCapacity?: () => Promise<void>;
  /** A second driver on the same cloud with other credentials/owner, if the backend allows (optional). */
  teardown(): Promise<void>;
}

export interface ConformanceTarget {
  readonly name: string;
  setup(): Promise<ConformanceFixture>;
  /** User-data for the created nodes (default: an empty cloud-config); a node must boot to running with it. */
  readonly userData?: Uint8Array;
  /** How long to wait for state changes (ms); simulated clouds are fast. */
  readonly stateTimeoutMs?: number;
  /** The cloud allows only lower-case names without '_' (GCE): prefixes are then `conf<run>-`. */
  readonly lowerCaseNames?: boolean;
}

/**
 * Polls until `check` passes: state changes are asynchronous everywhere. `guardMs` is only a
 * hang guard, never shorter than HANG_GUARD_MS (a loaded machine must not fail a test).
 */
export async function eventually<T>(
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  guardMs: number,
  what: string,
): Promise<T> {
  const limit = Math.max(guardMs, HANG_GUARD_MS);
  const deadline = Date.now() + limit;
  let last: T = await probe();
  while (!check(last)) {
    if (Date.now() > deadline)
      throw new Error(`still waiting for ${what} after ${limit} ms (hang guard); last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

export function testDriver(target: ConformanceTarget): void {
  describe(`driver conformance: ${target.name}`, () => {
    let fx: ConformanceFixture;
    const timeout = target.stateTimeoutMs ?? 20_000;
    const run = randomBytes(3).toString("hex").toUpperCase();
    const namePrefix = (word: string): string =>
      target.lowerCaseNames ? `${word.toLowerCase()}${run.toLowerCase()}-` : `${word}${run}_`;
    const prefix = namePrefix("CONF");
    /** A VM name as the CE writes it: `<prefix><8 hex><tag>`, in lower case where the cloud's names are. */
    const vmName = (tag: string): string => {
      const name = `${prefix}${randomBytes(4).toString("hex").toUpperCase()}${tag}`;
      return target.lowerCaseNames ? name.toLowerCase() : name;
    };
    const owner = { "cloudce-ce": `conformance-${run}` };
    /** A submission key as the DIRAC plugin makes one (a UUID4 in hex): the batch tag of the created nodes. */
    const submission = randomBytes(16).toString("hex");
    const userData = target.userData ?? new Uint8Array(Buffer.from("#cloud-config\nwrite_files: []\n"));
    const created: CloudNode[] = [];

    const stateOf = async (id: string): Promise<NodeState | "absent"> =>
      (await fx.driver.getNode(id))?.state ?? "absent";
    const reaches = (id: string, states: readonly (NodeState | "absent")[]) =>
      eventually(
        () => stateOf(id),
        (s) => states.includes(s),
        timeout,
        `node ${id} to reach ${states.join("/")}`,
      );

    beforeAll(async () => {
      fx = await target.setup();
    });

    afterAll(async () => {
      if (!fx) return;
      try {
        if (created.length > 0) await fx.driver.destroyNodes(created.map((n) => n.id));
        await fx.driver.close();
      } finally {
        await fx.teardown();
      }
    });

    it("declares coherent capabilities", () => {
      const c = fx.driver.capabilities;
      expect(typeof fx.driver.name).toBe("string");
      expect(c.userData.maxBytes).toBeGreaterThan(0);
      expect(["raw", "base64"]).toContain(c.userData.measuredAs);
      expect(["error", "newest"]).toContain(c.ambiguousImage);
    });

    for (const kind of ["Images", "Flavors", "Networks"] as const) {
      it(`lists ${kind.toLowerCase()} by id and by exact name`, async () => {
        const list = (q?: { id?: string; name?: string }) => fx.driver[`list${kind}`](q);
        const want = kind === "Images" ? fx.image : kind === "Flavors" ? fx.flavor : fx.networks[0];
        if (!want) return;
        const all = await list();
        expect(all.map((r) => r.id)).toContain(want.id);
        expect((await list({ id: want.id })).map((r) => r.id)).toEqual([want.id]);
        expect((await list({ name: want.name })).map((r) => r.id)).toContain(want.id);
        expect(await list({ name: `no-such-${run}` })).toEqual([]);
      });
    }

    it("creates nodes with the given names and metadata", async () => {
      const names = [0, 1, 2].map((i) => vmName(String(i)));
      const result = await fx.driver.createNodes({
        imageId: fx.image.id,
        flavorId: fx.flavor.id,
        networkIds: fx.networks.map((n) => n.id),
        nodes: names.map((name) => ({ name, userData, metadata: { ...owner, "cloudce-batch": submission } })),
        requestId: `conf-${run}-create`,
      });
      created.push(...result.created);
      expect(result.failed).toEqual([]);
      expect(result.created).toHaveLength(3);
      for (const node of result.created) {
        expect(NODE_STATES).toContain(node.state);
        expect(node.createdAt).toBeInstanceOf(Date);
        expect(Math.abs(node.createdAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
        expect(node.metadata).toMatchObject(owner);
      }
      if (!fx.driver.capabilities.uniformBatch)
        expect(result.created.map((n) => n.name).sort()).toEqual([...names].sort());
    });

    it("lists exactly the nodes that match the owner filter and prefix", async () => {
      const mine = await fx.driver.listNodes({ namePrefix: prefix, metadata: owner });
      expect(mine.map((n) => n.id).sort()).toEqual(created.map((n) => n.id).sort());
      const others = await fx.driver.listNodes({
        namePrefix: prefix,
        metadata: { "cloudce-ce": `someone-else-${run}` },
      });
      expect(others).toEqual([]);
      const otherPrefix = await fx.driver.listNodes({ namePrefix: namePrefix("NOPE"), metadata: owner });
      expect(otherPrefix).toEqual([]);
    });

    it("lists the nodes of one submission by its key, which each carries", async () => {
      const byKey = await fx.driver.listNodes({
        namePrefix: prefix,
        metadata: { ...owner, "cloudce-batch": submission },
      });
      expect(byKey.map((n) => n.id).sort()).toEqual(created.map((n) => n.id).sort());
      for (const node of byKey) expect(node.metadata["cloudce-batch"]).toBe(submission);
      const otherKey = await fx.driver.listNodes({
        namePrefix: prefix,
        metadata: { ...owner, "cloudce-batch": randomBytes(16).toString("hex") },
      });
      expect(otherKey).toEqual([]);
    });

    it("gets one node, and undefined for an id it never issued", async () => {
      const first = created[0];
      expect(first).toBeDefined();
      const node = await fx.driver.getNode(first!.id);
      expect(node?.id).toBe(first!.id);
      expect(node?.name).toBe(first!.name);
      expect(await fx.driver.getNode(fx.unknownNodeId)).toBeUndefined();
    });

    /** A reported time is a Date between `after` and now, give or take the clouds' one-second resolution. */
    const expectTime = (t: Date | undefined, after: Date, what: string): void => {
      expect(t, what).toBeInstanceOf(Date);
      expect(t!.getTime(), `${what} after ${after.toISOString()}`).toBeGreaterThanOrEqual(after.getTime() - 1000);
      expect(t!.getTime(), `${what} not in the future`).toBeLessThanOrEqual(Date.now() + 1000);
    };

    it("brings a node to running, and reports when it started", async () => {
      await reaches(created[0]!.id, ["running", "stopped"]);
      const node = await fx.driver.getNode(created[0]!.id);
      expectTime(node?.launchedAt, node!.createdAt, "launchedAt");
      const listed = (await fx.driver.listNodes({ namePrefix: prefix, metadata: owner })).find(
        (n) => n.id === node!.id,
      );
      expect(listed?.launchedAt?.getTime()).toBe(node!.launchedAt!.getTime());
    });

    it("stops a node when it can", async () => {
      if (!fx.driver.capabilities.stop) return;
      const id = created[1]!.id;
      await reaches(id, ["running", "stopped"]);
      const r = await fx.driver.stopNodes([id]);
      expect(r.failed).toEqual([]);
      expect(r.done).toEqual([id]);
      await reaches(id, ["stopped"]);
      const node = await fx.driver.getNode(id);
      expectTime(node?.stoppedAt, node!.launchedAt ?? node!.createdAt, "stoppedAt");
    });

    it("reports lack of capacity with the contract's codes", async () => {
      if (!fx.exhaustCapacity) return;
      await fx.exhaustCapacity();
      const name = vmName("C");
      const request = {
        imageId: fx.image.id,
        flavorId: fx.flavor.id,
        networkIds: fx.networks.map((n) => n.id),
        nodes: [{ name, userData, metadata: { ...owner } }],
        requestId: `conf-${run}-capacity`,
      };
      let result: CreateNodesResult;
      try {
        result = await fx.driver.createNodes(request);
      } catch (err) {
        result = { created: [], failed: [{ target: name, error: err as Error }] };
      }
      created.push(...result.created);
      const [failure] = result.failed;
      if (failure) {
        expect(
          isCloudceError(failure.error) && (CAPACITY_ERROR_CODES as readonly string[]).includes(failure.error.code),
          String(failure.error),
        ).toBe(true);
        if (isCloudceError(failure.error, "QuotaExceeded")) expect(failure.error.quotaResource).toBeDefined();
        return;
      }
      // Nova accepts the create; the scheduler then fails the server.
      const node = await eventually(
        () => fx.driver.getNode(result.created[0]!.id),
        (n) => n?.state === "error",
        timeout,
        "the node to fail",
      );
      expect(node?.fault?.code).toBe("CapacityExceeded");
    });

    refusalChecks({ fixture: () => fx, vmName, owner, userData, run, created });

    it("gives console output when it can", async () => {
      if (!fx.driver.capabilities.consoleOutput) return;
      expect(typeof (await fx.driver.getConsoleOutput(created[0]!.id))).toBe("string");
    });

    it("reports limits when it can", async () => {
      if (!fx.driver.capabilities.limits) return;
      const limits = await fx.driver.getLimits();
      for (const v of [limits.instances, limits.cores, limits.ramMb])
        if (v !== undefined) expect(v).toBeGreaterThanOrEqual(0);
    });

    it("destroys nodes, and destroying again is still success (and gone, where the driver says)", async () => {
      const ids = created.map((n) => n.id);
      const first = await fx.driver.destroyNodes(ids);
      expect(first.failed).toEqual([]);
      expect([...first.done].sort()).toEqual([...ids].sort());
      for (const id of ids) await reaches(id, ["gone", "absent"]);
      // Where a driver tells a delete that came second, the first is not gone and an unknown id is
      // (Nova accepts a repeated DELETE while the server is still being deleted: that one cannot tell).
      if (first.gone !== undefined) expect(first.gone).toEqual([]);
      const again = await fx.driver.destroyNodes([...ids, fx.unknownNodeId]);
      expect(again.failed).toEqual([]);
      if (again.gone !== undefined) expect(again.gone).toContain(fx.unknownNodeId);
      expect(await fx.driver.listNodes({ namePrefix: prefix, metadata: owner })).toEqual([]);
      created.length = 0;
    });
  });
}
