/**
 * SiteDirector's cycle through `cloudce serve`: every queue's CE object asks
 * its pilots' states, then each is cleaned up. A queue's status and cleanup
 * reach the same CE object in the server, so the cleanup judges the status
 * listing and the cloud is listed once per queue, not twice.
 */

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryOptions, serveSetup } from "./serve-setup.js";

const t = serveSetup();

describe("a cycle of status then cleanup per queue", () => {
  it("lists the cloud once per queue, and the cleanups delete each queue's stopped VM", async () => {
    const queues = ["a", "b", "c"];
    const handles: string[] = [];
    const refs: string[][] = [];
    for (const queue of queues) {
      const handle = await t.openCe({ ...memoryOptions, Queue: queue });
      const answer = await t.server.call("submitJob", {
        handle,
        executableFile: join(t.dir, "pilot.sh"),
        numberOfJobs: 2,
      });
      const made = answer.result!["Value"] as string[];
      t.cloud.setState(made[0]!.slice("cloud://".length), "stopped");
      handles.push(handle);
      refs.push(made);
    }
    const listed = t.cloud.calls["listNodes"] ?? 0;
    const states = await Promise.all(
      handles.map((handle, i) => t.server.call("getJobStatus", { handle, refs: refs[i] })),
    );
    for (const s of states) expect(s.result).toMatchObject({ OK: true });
    expect((t.cloud.calls["listNodes"] ?? 0) - listed).toBe(queues.length);
    const reports = [];
    for (const handle of handles) reports.push((await t.server.call("cleanupPilots", { handle })).result);
    expect((t.cloud.calls["listNodes"] ?? 0) - listed).toBe(queues.length);
    expect(reports).toEqual(
      refs.map((made) => ({ OK: true, Value: { deleted: [expect.objectContaining({ ref: made[0] })], failed: [] } })),
    );
    expect([...t.cloud.nodes.keys()].sort()).toEqual(refs.map((made) => made[1]!.slice("cloud://".length)).sort());
  });
});
