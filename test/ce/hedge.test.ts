/**
 * Hedged requests (src/ce/hedge.ts) with an injected clock: a call held
 * past a few times the endpoint's median gets one duplicate and the first
 * success answers; fast calls, and endpoints whose duplicates do not win,
 * get none; the budget holds; a stopped caller sends none.
 */

import { describe, expect, it } from "vitest";
import { DELETE_HEDGE, type HedgeOutcome } from "../../src/ce/hedge.js";
import type { BulkResult } from "../../src/drivers/driver.js";

import { FakeClock, fast, flush, held, Requests, warmed } from "../support/hedge-clock.js";

describe("hedged requests", () => {
  it("sends exactly one duplicate of a held call and answers with the duplicate's answer", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    expect(hedges.delay("delete")).toBe(60);
    const outcomes: HedgeOutcome[] = [];
    const r = new Requests<BulkResult>();
    const p = hedges.run("delete", r.send, { ...DELETE_HEDGE, onOutcome: (o) => outcomes.push(o) });
    await flush();
    await clock.advance(59);
    expect(r.sent).toHaveLength(1);
    await clock.advance(1);
    expect(r.sent).toHaveLength(2);
    r.sent[1]!.resolve({ done: ["vm-1"], failed: [] });
    await expect(p).resolves.toEqual({ done: ["vm-1"], failed: [] });
    r.sent[0]!.resolve({ done: ["vm-1"], failed: [] });
    await clock.advance(10_000);
    expect(r.sent).toHaveLength(2);
    expect(outcomes).toEqual(["won"]);
  });

  it("sends no duplicate of a call that answers in time, nor before a few calls have answered", async () => {
    const clock = new FakeClock();
    const cold = await warmed(clock, "list", 4);
    const held = new Requests<string>();
    const p0 = cold.run("list", held.send);
    await clock.advance(10_000);
    expect(held.sent).toHaveLength(1);
    held.sent[0]!.resolve("late");
    await expect(p0).resolves.toBe("late");

    const hedges = await warmed(clock, "list");
    const r = new Requests<string>();
    const p = hedges.run("list", r.send);
    await clock.advance(30);
    r.sent[0]!.resolve("first");
    await expect(p).resolves.toBe("first");
    await clock.advance(10_000);
    expect(r.sent).toHaveLength(1);
  });

  it("takes the first success when one request fails, and rejects with the first request's error when both do", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const r = new Requests<string>();
    const p = hedges.run("delete", r.send);
    await clock.advance(60);
    r.sent[0]!.reject(new Error("first failed"));
    await flush();
    r.sent[1]!.resolve("second");
    await expect(p).resolves.toBe("second");

    const both = new Requests<string>();
    const q = hedges.run("delete", both.send);
    await clock.advance(60);
    both.sent[1]!.reject(new Error("duplicate failed"));
    await flush();
    both.sent[0]!.reject(new Error("first failed"));
    await expect(q).rejects.toThrow("first failed");

    // A bulk result with failed ids is a failure too: both failed, the first request's result answers.
    const fresh = await warmed(clock);
    const bulk = new Requests<BulkResult>();
    const b = fresh.run("delete", bulk.send, DELETE_HEDGE);
    await clock.advance(60);
    const failed = (why: string): BulkResult => ({ done: [], failed: [{ target: "vm-1", error: new Error(why) }] });
    bulk.sent[0]!.resolve(failed("first"));
    await flush();
    bulk.sent[1]!.resolve(failed("duplicate"));
    expect((await b).failed[0]!.error.message).toBe("first");
  });

  it("answers a failure at once when no duplicate is on its way", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const r = new Requests<string>();
    const p = hedges.run("delete", r.send);
    r.sent[0]!.reject(new Error("refused"));
    await expect(p).rejects.toThrow("refused");
    await clock.advance(10_000);
    expect(r.sent).toHaveLength(1);
  });

  it("hedges at most two calls at once, and one call in ten after", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock, "list", 5, 1);
    const held = async (): Promise<number> => {
      const r = new Requests<string>();
      const p = hedges.run("list", r.send);
      await clock.advance(50);
      for (const x of r.sent.reverse()) x.resolve("ok");
      await p;
      return r.sent.length - 1;
    };
    const r = new Requests<string>();
    const three = [0, 1, 2].map(() => hedges.run("list", r.send));
    await clock.advance(50);
    expect(r.sent).toHaveLength(5);
    for (const x of r.sent.reverse()) x.resolve("ok");
    await Promise.all(three);
    // The burst is spent: nine more calls of the endpoint (of any kind) and a held one earn one duplicate.
    await fast(hedges, 8);
    expect(await held()).toBe(0);
    await fast(hedges, 9);
    expect(await held()).toBe(1);
  });

  it("pauses hedging for 64 calls where duplicates do not win, then probes again", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock, "delete", 5, 1);
    const outcomes: HedgeOutcome[] = [];
    const onOutcome = (o: HedgeOutcome): void => void outcomes.push(o);
    // Eight held calls whose first request still answers first; fast calls between refill the budget.
    while (outcomes.length < 8) {
      await fast(hedges, 10);
      const { r, p } = await held<string>(clock, hedges, 50, { onOutcome });
      expect(r.sent).toHaveLength(2);
      r.sent[0]!.resolve("first");
      await p;
    }
    expect(outcomes).toEqual(Array(8).fill("lost"));
    // Another kind of call (a small CE's listing) is still hedged.
    expect(hedges.isPaused("list")).toBe(false);
    expect(hedges.isPaused("delete")).toBe(true);
    const { r, p } = await held<string>(clock, hedges, 10_000);
    expect(r.sent).toHaveLength(1);
    r.sent[0]!.resolve("ok");
    await p;
    await fast(hedges, 62);
    expect(hedges.isPaused("delete")).toBe(true);
    await fast(hedges, 1);
    expect(hedges.isPaused("delete")).toBe(false);
    const probe = await held<string>(clock, hedges, 50);
    expect(probe.r.sent).toHaveLength(2);
    probe.r.sent[1]!.resolve("probe");
    await expect(probe.p).resolves.toBe("probe");
  });

  it("sends no duplicate once the caller stopped, before or during its rate-limit turn", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const stop = new AbortController();
    const r = new Requests<string>();
    const p = hedges.run("delete", r.send, { signal: stop.signal });
    stop.abort();
    await clock.advance(60);
    expect(r.sent).toHaveLength(1);
    r.sent[0]!.resolve("first");
    await expect(p).resolves.toBe("first");

    const late = new AbortController();
    let turn: () => void = () => undefined;
    const ready = (): Promise<void> => new Promise((resolve) => (turn = resolve));
    const s = new Requests<string>();
    const q = hedges.run("delete", s.send, { signal: late.signal, ready });
    await clock.advance(60);
    s.sent[0]!.reject(new Error("first failed"));
    late.abort();
    turn();
    await expect(q).rejects.toThrow("first failed");
    expect(s.sent).toHaveLength(1);
  });

  it("tells the adaptive limit when the request that answered was sent", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const sentAfter: number[] = [];
    const r = new Requests<string>();
    const p = hedges.run("delete", r.send, { onWinner: (ms) => sentAfter.push(ms) });
    await clock.advance(60);
    await clock.advance(15);
    r.sent[1]!.resolve("second");
    await p;
    expect(sentAfter).toEqual([60]);
  });

  it("waits for the first request when the duplicate of a delete finds the VM gone: only it knows who deleted it", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const gone: BulkResult = { done: ["vm-1"], failed: [], gone: ["vm-1"] };
    // Another cleanup removed it before either request: both find it gone, and so does the caller.
    const both = await held<BulkResult>(clock, hedges, 60, DELETE_HEDGE);
    both.r.sent[1]!.resolve(gone);
    both.r.sent[0]!.resolve(gone);
    await expect(both.p).resolves.toEqual(gone);

    // The first request deleted it, the duplicate's 404 came first: deleted by us, not gone.
    let answered = false;
    const ours = await held<BulkResult>(clock, hedges, 60, DELETE_HEDGE);
    void ours.p.then(() => (answered = true));
    ours.r.sent[1]!.resolve(gone);
    await flush();
    expect(answered).toBe(false);
    ours.r.sent[0]!.resolve({ done: ["vm-1"], failed: [] });
    await expect(ours.p).resolves.toEqual({ done: ["vm-1"], failed: [] });

    // The first request failed: the VM is not there, and we do not claim we deleted it.
    await fast(hedges, 10);
    const failed = await held<BulkResult>(clock, hedges, 60, DELETE_HEDGE);
    failed.r.sent[1]!.resolve(gone);
    failed.r.sent[0]!.reject(new Error("connection reset"));
    await expect(failed.p).resolves.toEqual(gone);
  });

  it("answers the caller even when a callback throws", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const boom = (): never => {
      throw new Error("callback failed");
    };
    const r = new Requests<string>();
    const p = hedges.run("delete", r.send, { onOutcome: boom, onWinner: boom });
    await clock.advance(60);
    r.sent[1]!.resolve("second");
    await expect(p).resolves.toBe("second");
    const q = hedges.run("delete", r.send, { onWinner: boom });
    r.sent[2]!.resolve("third");
    await expect(q).resolves.toBe("third");
  });

  it("stops the request that lost once the call is answered, and never the one that answered", async () => {
    const clock = new FakeClock();
    const hedges = await warmed(clock);
    const signals: AbortSignal[] = [];
    const r = new Requests<string>();
    const p = hedges.run("delete", (signal) => {
      signals.push(signal);
      return r.send();
    });
    await clock.advance(60);
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    r.sent[1]!.resolve("second");
    await expect(p).resolves.toBe("second");
    expect(signals[0]!.aborted).toBe(true);
  });
});
