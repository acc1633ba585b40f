import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { RPC_ERRORS } from "../../src/serve/protocol.js";
import { startServe } from "./harness.js";
import { memoryOptions, serveSetup } from "./serve-setup.js";
import { until } from "../support/wait.js";

const t = serveSetup();
/** An uncommon deadline, so that the test tells its timer from the others. */
const DEADLINE_MS = 217;

describe("submitJob deadline and stdin EOF", () => {
  it("a submission past its deadline returns what it created, with Interrupted", async () => {
    // The second create holds until the test ends, so the deadline falls while it is in flight; the deadline's
    // timer fires only once the first create has answered (the second has started), however busy the machine.
    t.holdAfter = 1;
    const firstAnswered = until(() => t.createsStarted === 2, "the first create to answer");
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) =>
      realSetTimeout(ms === DEADLINE_MS ? () => void firstAnswered.then(fn) : fn, ms)) as typeof setTimeout);
    const handle = await t.openCe();
    const answer = await t.server.call("submitJob", {
      handle,
      executableFile: join(t.dir, "pilot.sh"),
      numberOfJobs: 6,
      deadline: DEADLINE_MS / 1000,
    });
    vi.restoreAllMocks();
    const refs = answer.result!["Value"] as string[];
    expect(answer.result!["OK"]).toBe(true);
    expect(answer.result!["Interrupted"]).toMatch(/of 6 pilots created/);
    // The first create, never the held one.
    expect(refs).toHaveLength(1);
    // Nothing on the cloud that the answer does not account for.
    expect(t.cloud.nodes.size).toBe(refs.length);
  });

  it("a deadline beyond what a timer holds (about 24.8 days) means no early stop, not an instant one", async () => {
    t.createMs = 20;
    const handle = await t.openCe();
    const answer = await t.server.call("submitJob", {
      handle,
      executableFile: join(t.dir, "pilot.sh"),
      numberOfJobs: 3,
      deadline: 30 * 86400,
    });
    expect(answer.result!["OK"]).toBe(true);
    expect(answer.result!["Interrupted"]).toBeUndefined();
    expect(answer.result!["Value"] as string[]).toHaveLength(3);
  });

  it("on EOF a submission in flight stops starting VMs, is answered, and every handle closes", async () => {
    // The second create holds: it is in flight at EOF, however slowly a busy machine makes the first.
    t.holdAfter = 1;
    const handle = await t.openCe();
    const pending = t.server.call("submitJob", { handle, executableFile: join(t.dir, "pilot.sh"), numberOfJobs: 50 });
    await until(() => t.cloud.nodes.size > 0, "a VM on the cloud");
    const end = t.server.end();
    const answer = await pending;
    expect(await end).toBe("eof");
    expect(answer.result!["OK"]).toBe(true);
    expect(answer.result!["Interrupted"]).toBeTruthy();
    expect(t.cloud.nodes.size).toBe((answer.result!["Value"] as string[]).length);
    expect(t.cloud.nodes.size).toBeLessThan(50);
  });
});

describe("close", () => {
  it("waits for the calls still running on the handle, and refuses new ones at once", async () => {
    t.createMs = 300;
    const handle = await t.openCe();
    const submitting = t.server.call("submitJob", { handle, executableFile: join(t.dir, "pilot.sh"), numberOfJobs: 2 });
    await until(() => t.createsStarted === 1, "the first create to start");
    const closing = t.server.call("close", { handle });
    const refused = await t.server.call("getCEStatus", { handle });
    expect(refused.error?.code).toBe(RPC_ERRORS.UnknownHandle);
    const submitted = await submitting;
    expect(submitted.result!["OK"]).toBe(true);
    expect(submitted.result!["Value"] as string[]).toHaveLength(2);
    expect(submitted.result!["Interrupted"]).toBeUndefined();
    expect((await closing).result).toEqual({});
    expect(t.cloud.nodes.size).toBe(2);
  });
});

describe("the drain at stdin EOF", () => {
  // A stopped submission is bounded by one Cloud_RequestTimeout from the stop (plus the answer's
  // trip); a fixed drain shorter than that would exit under a create the cloud may still make.
  it("by default waits as long as the largest Cloud_RequestTimeout of the open handles", async () => {
    await t.server.end();
    t.server = startServe({ drainMarginMs: 0 });
    t.createMs = 1_500;
    const quick = await t.openCe({ ...memoryOptions, Cloud_RequestTimeout: 1 });
    expect((await t.server.call("getCEStatus", { handle: quick })).result!["OK"]).toBe(true); // its timeout now counts
    const slow = await t.openCe({ ...memoryOptions, Cloud_RequestTimeout: 4 });
    const pending = t.server.call("submitJob", {
      handle: slow,
      executableFile: join(t.dir, "pilot.sh"),
      numberOfJobs: 1,
    });
    await until(() => t.createsStarted === 1, "the first create to start");
    const end = t.server.end();
    const answer = await Promise.race([pending, end.then(() => undefined)]);
    await end;
    expect(answer?.result?.["OK"]).toBe(true);
    expect(answer?.result?.["Value"] as string[]).toHaveLength(1);
    expect(t.cloud.nodes.size).toBe(1);
  });

  it("an explicit drain is kept even when a request runs longer", async () => {
    await t.server.end();
    t.server = startServe({ drainMs: 100 });
    t.createMs = 1_500;
    const handle = await t.openCe({ ...memoryOptions, Cloud_RequestTimeout: 4 });
    void t.server.call("submitJob", { handle, executableFile: join(t.dir, "pilot.sh"), numberOfJobs: 1 });
    await until(() => t.createsStarted === 1, "the first create to start");
    expect(await t.server.end()).toBe("eof");
    expect(t.server.stderr()).toMatch(/requests still running at exit/);
  });
});
