import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { RpcError } from "./protocol.js";
import { MAX_FINISHED_KEYS, SubmissionTable, withFound } from "./submissions.js";

const key = (i: number): string => `key-${String(i).padStart(8, "0")}`;

describe("SubmissionTable", () => {
  it("keeps a bounded number of finished keys, forgetting the oldest first", async () => {
    const table = new SubmissionTable(silentLogger);
    for (let i = 0; i <= MAX_FINISHED_KEYS; i++)
      await table.run(key(i), "a.cloud", async () => ({ OK: true, Value: [] }));
    expect(table.known(key(0), "a.cloud")).toBeUndefined();
    expect(table.known(key(1), "a.cloud")).toBeDefined();
    expect(table.known(key(MAX_FINISHED_KEYS), "a.cloud")).toBeDefined();
  });

  it("refuses a key another CE used, running or finished", async () => {
    const table = new SubmissionTable(silentLogger);
    let finish: () => void = () => undefined;
    void table.run(key(1), "a.cloud", () => new Promise<void>((r) => (finish = r)));
    expect(() => table.known(key(1), "b.cloud")).toThrow(RpcError);
    finish();
    await table.known(key(1), "a.cloud")!.answer;
    expect(() => table.known(key(1), "b.cloud")).toThrow(/was used by CE a\.cloud/);
  });

  it("stops a running submission once, and a finished one not at all", async () => {
    const table = new SubmissionTable(silentLogger);
    const stop = new AbortController();
    let finish: () => void = () => undefined;
    void table.run(key(2), "a.cloud", () => new Promise<void>((r) => (finish = r)), stop);
    const answer = table.stopRunning(key(2), table.known(key(2), "a.cloud")!);
    expect(stop.signal.aborted).toBe(true);
    finish();
    await answer;
  });
});

describe("withFound", () => {
  const base = { OK: true, Value: ["cloud://a"], PilotStampDict: { "cloud://a": "sa" }, Interrupted: "note" };
  it("adds the VMs found after the answer, with their stamps", () => {
    const found = {
      OK: true,
      Value: ["cloud://a", "cloud://b"],
      PilotStampDict: { "cloud://a": "sa", "cloud://b": "sb" },
    };
    expect(withFound(base, found)).toMatchObject({
      Value: ["cloud://a", "cloud://b"],
      PilotStampDict: { "cloud://b": "sb" },
      Interrupted: "note",
      Recovered: expect.stringMatching(/^1 pilot VM found/),
    });
  });
  it("keeps the answer when the listing found nothing new or failed", () => {
    expect(withFound(base, { OK: true, Value: ["cloud://a"], PilotStampDict: {} })).toBe(base);
    expect(withFound(base, { OK: false, Message: "cloud down" })).toBe(base);
  });
  it("answers with what was found when the submission itself failed", () => {
    const failed = { OK: false, Message: "quota" };
    const found = { OK: true, Value: ["cloud://b"], PilotStampDict: { "cloud://b": "sb" } };
    expect(withFound(failed, found)).toBe(found);
    expect(withFound(failed, { OK: true, Value: [], PilotStampDict: {} })).toBe(failed);
  });
});
