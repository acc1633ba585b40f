/**
 * Listings that page in circles: every driver ends them with a CloudError
 * instead of looping or answering in part. Listings that show an item on
 * two pages: with a key, each item is returned once.
 */

import type { CoreV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { GceApi } from "../../src/drivers/gce/api.js";
import { allPages as gcePages } from "../../src/drivers/gce/instances.js";
import { KubeApi } from "../../src/drivers/kubernetes/api.js";
import { Pods } from "../../src/drivers/kubernetes/pods.js";
import { allPages as openStackPages } from "../../src/drivers/openstack/paging.js";
import { followPages } from "../../src/drivers/paging.js";
import { isCloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";

/** Gives up (instead of the test hanging) once a listing has asked for 50 pages. */
function guarded<T>(page: (cursor: string | undefined, call: number) => T): (cursor: string | undefined) => T {
  let calls = 0;
  return (cursor) => {
    if (++calls > 50) throw new Error("still paging after 50 pages");
    return page(cursor, calls);
  };
}

async function failureOf(listing: Promise<unknown>): Promise<Error> {
  const err = await listing.then(
    () => new Error("the listing ended"),
    (e: unknown) => e as Error,
  );
  expect(isCloudceError(err, "CloudError")).toBe(true);
  return err;
}

describe("followPages", () => {
  const listing = { driver: "TEST", what: "TEST list things", cursor: "page token" };

  it("reads every page to the end", async () => {
    const pages = guarded(async (_c, n) => ({ items: [n], next: n < 3 ? `t${n}` : undefined }));
    expect(await followPages(pages, listing)).toEqual([1, 2, 3]);
  });

  it("names the listing and the cursor handed out twice", async () => {
    const pages = guarded(async (_c, n) => ({ items: [n], next: n === 2 ? "B" : "A" }));
    const err = await failureOf(followPages(pages, listing));
    expect(err.message).toMatch(/^TEST list things: the cloud returned the same page token twice \(A\) after 3 pages/);
    expect(err).toMatchObject({ driver: "TEST" });
  });

  it("with a key, returns an item listed on two pages once, where it was first listed, as last listed", async () => {
    type Item = { id: string; v: number };
    const items: Item[][] = [
      [
        { id: "a", v: 1 },
        { id: "b", v: 1 },
      ],
      [
        { id: "b", v: 2 },
        { id: "c", v: 1 },
      ],
      [{ id: "a", v: 3 }],
    ];
    const pages = guarded(async (_c, n) => ({ items: items[n - 1]!, next: n < 3 ? `t${n}` : undefined }));
    expect(await followPages(pages, { ...listing, key: (i: Item) => i.id })).toEqual([
      { id: "a", v: 3 },
      { id: "b", v: 2 },
      { id: "c", v: 1 },
    ]);
  });

  it("stops after the bound on pages", async () => {
    const pages = guarded(async (_c, n) => ({ items: [n], next: `t${n}` }));
    const err = await failureOf(followPages(pages, { ...listing, maxPages: 5 }));
    expect(err.message).toMatch(/^TEST list things: more than 5 pages/);
  });
});

describe("drivers whose listings follow a page token", () => {
  it("GCE: a nextPageToken handed out twice", async () => {
    const api = { require: guarded(async () => ({ items: [{ name: "a" }], nextPageToken: "same" })) };
    const err = await failureOf(gcePages(api as unknown as GceApi, "zones/z/instances", {}));
    expect(err.message).toMatch(/same pageToken twice \(same\)/);
  });

  it("OPENSTACK: a next link whose marker was followed before; an empty page ends the listing", async () => {
    const href = (marker: string) => `http://nova.example.org/v2.1/servers?limit=2&marker=${marker}`;
    const looping = guarded(async (_m, n) => ({ items: [n], next: href(n === 2 ? "m2" : "m1") }));
    const err = await failureOf(openStackPages(looping, "compute GET /servers"));
    expect(err.message).toMatch(/^compute GET \/servers: the cloud returned the same page marker twice \(m1\)/);
    const empty = guarded(async (_m, n) => ({ items: n < 3 ? [n] : [], next: href(`m${n}`) }));
    expect(await openStackPages(empty, "compute GET /servers")).toEqual([1, 2]);
  });

  it("KUBERNETES: a continue token handed out twice", async () => {
    const core = {
      listNamespacedPod: guarded(async () => ({ items: [], metadata: { _continue: "same" } })),
    };
    const api = new KubeApi({
      api: core as unknown as CoreV1Api,
      namespace: "grid",
      timeoutMs: 1000,
      logger: silentLogger,
    });
    const err = await failureOf(new Pods(api, 2).list({ namePrefix: "", metadata: {} }));
    expect(err.message).toMatch(/same continue token twice \(same\)/);
  });
});
