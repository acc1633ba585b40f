/**
 * OPENSTACK listing by tags: the sweep for servers booted without tags is
 * sent alongside the tag listing, so a listing that sweeps costs one round
 * trip of the cloud, not two; what either finds is still listed.
 */

import { beforeEach, describe, expect, it } from "vitest";
import type { NovaApi, ServerQuery } from "../../src/drivers/openstack/compute.js";
import type { ParsedOptions } from "../../src/drivers/openstack/options.js";
import { ServerListing } from "../../src/drivers/openstack/server-listing.js";
import type { NovaServer } from "../../src/drivers/openstack/state-map.js";
import { forgetTagKnowledge } from "../../src/drivers/openstack/tags.js";
import { silentLogger } from "../../src/log.js";

interface Pending {
  readonly query: ServerQuery;
  readonly answer: (servers: NovaServer[]) => void;
}

/** A Nova whose listings answer only when the test says so. */
function heldNova(): { nova: NovaApi; pending: Pending[]; sent: () => Promise<void> } {
  const pending: Pending[] = [];
  const waiters: (() => void)[] = [];
  const nova = {
    listServers: (query: ServerQuery) =>
      new Promise<NovaServer[]>((answer) => {
        pending.push({ query, answer });
        for (const w of waiters.splice(0)) w();
      }),
  } as unknown as NovaApi;
  const sent = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { nova, pending, sent };
}

const server = (id: string, tags: string[]): NovaServer =>
  ({ id, name: `PRE_${id}`, status: "ACTIVE", metadata: { "cloudce-ce": "ce-a" }, tags }) as unknown as NovaServer;
const options = { microversion: "2.52" } as ParsedOptions;
const filter = { namePrefix: "PRE_", metadata: { "cloudce-ce": "ce-a" } };

beforeEach(() => forgetTagKnowledge());

describe("OPENSTACK listing that sweeps", () => {
  it("sends the sweep before the tag listing has answered, and lists what both found", async () => {
    const { nova, pending, sent } = heldNova();
    const listing = new ServerListing(nova, options, "scope-a", silentLogger);
    const listed = listing.list(filter);
    while (pending.length < 1) await sent();
    // A turn of the event loop: a sweep sent only once the tag listing answered is not sent by then.
    await new Promise((resolve) => setImmediate(resolve));
    expect(pending.map((p) => (p.query.notTagsAny ? "sweep" : "tags"))).toEqual(["tags", "sweep"]);
    pending[1]!.answer([server("old", [])]);
    pending[0]!.answer([server("new", ["cloudce", "cloudce-ce=ce-a"])]);
    expect((await listed).map((s) => s.id).sort()).toEqual(["new", "old"]);
  });
});
