import { describe, expect, it } from "vitest";
import { allPages } from "../../src/drivers/ec2/resources.js";
import { isCloudceError } from "../../src/errors.js";

/** A cloud answering `next` after `token`, that gives up (instead of the test hanging) after 50 pages. */
function cloud(next: (token: string | undefined, call: number) => string | undefined) {
  let calls = 0;
  return async (token: string | undefined) => {
    if (++calls > 50) throw new Error("still paging after 50 pages");
    return { items: [calls], next: next(token, calls) };
  };
}

describe("EC2 NextToken paging", () => {
  it("reads every page to the end", async () => {
    expect(await allPages(cloud((_t, n) => (n < 3 ? `t${n}` : undefined)))).toEqual([1, 2, 3]);
  });

  it("stops with a clear error when the cloud hands out a NextToken it gave before", async () => {
    const err = await allPages(cloud((_t, n) => (n === 1 ? "A" : n === 2 ? "B" : "A"))).catch((e: unknown) => e);
    expect(isCloudceError(err, "CloudError")).toBe(true);
    expect((err as Error).message).toMatch(/same NextToken twice \(A\)/);
  });

  it("stops when the cloud answers the same token it was asked with", async () => {
    const err = await allPages(cloud((t) => t ?? "same")).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/same NextToken twice/);
  });
});
