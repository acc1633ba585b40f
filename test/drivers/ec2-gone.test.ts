/** EC2: a terminate that came second (the instance was already shutting down or terminated) is reported gone; the first is not. */

import { describe, expect, it } from "vitest";
import { ec2FixturePerTest } from "../servers/ec2/vitest-scope.js";

const start = ec2FixturePerTest();

describe("EC2 terminate", () => {
  it("tells the delete that came first from the ones after it, by the instance's previous state", async () => {
    const f = await start();
    const nodes = Array.from({ length: 3 }, (_, i) => ({
      name: `EC2G_0000000${i}`,
      userData: new Uint8Array(),
      metadata: { "cloudce-ce": "gone" },
    }));
    const { created } = await f.driver.createNodes({
      imageId: "ami-0a1b2c3d4e5f60001",
      flavorId: "t3.micro",
      networkIds: [],
      nodes,
      requestId: "gone-request-0001",
    });
    const ids = created.map((n) => n.id);
    const first = await f.driver.destroyNodes([ids[0]!]);
    expect(first).toMatchObject({ done: [ids[0]], failed: [], gone: [] });
    // Another host's cleanup terminates all three: only the two live ones are its own.
    const second = await f.driver.destroyNodes(ids);
    expect([...second.done].sort()).toEqual([...ids].sort());
    expect(second.gone).toEqual([ids[0]]);
  });
});
