/**
 * Hedged requests (src/ce/hedge.ts) with an injected clock: a call held
 * past a few times the endpoint's median gets one duplicate and the first
 * success answers; fast calls, and endpoints whose duplicates do not win,
 * get none; the budget holds; a stopped caller sends none.
 */

import { describe, expect, it } from "vitest";
import {
  DELETE_HEDGE,
  EndpointHedges,
  type HedgeClock,
  type HedgeOptions,
  type HedgeOutcome,
} from "../../src/ce/hedge.js";
import type { BulkResult } from "../../src/drivers/driver.js";

/** A clock whose timers fire only when a test moves it. */
class FakeClock implements HedgeClock {
  private t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
    await flush();
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Requests a test answers by hand, in the order they were sent. */
class Requests<T> {
  readonly sent: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  send = (): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.sent.push({ resolve, reject });
    });
}

/** An endpoint that has seen `n` calls of `kind` each answered after `ms`. */
async function warmed(clock: FakeClock, kind = "delete", n = 5, ms = 20): Promise<EndpointHedges> {
  const hedges = new EndpointHedges(clock);
  for (let i = 0; i < n; i++) {
    const r = new Requests<string>();
    const p = hedges.run(kind, r.send);
    await flush();
    await clock.advance(ms);
    r.sent[0]!.resolve("ok");
    await p;
  }
  return hedges;
}

/** `n` calls of `kind` answered at once. */
async function fast(hedges: EndpointHedges, n: number, kind = "delete"): Promise<void> {
  for (let i = 0; i < n; i++) {
    const f = new Requests<string>();
    const q = hedges.run(kind, f.send);
    f.sent[0]!.resolve("ok");
    await q;
  }
}

/** A call of `kind` the clock then moves `ms` past: its requests, and its answer. */
async function held<T>(
  clock: FakeClock,
  hedges: EndpointHedges,
  ms: number,
  options?: HedgeOptions<T>,
): Promise<{ r: Requests<T>; p: Promise<T> }> {
  const r = new Requests<T>();
  const p = hedges.run("delete", r.send, options);
  await clock.advance(ms);
  return { r, p };
}

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
    // A 404 on the duplicate: the first request may have deleted it, so it is plain done.
    r.sent[1]!.resolve({ done: ["vm-1"], failed: [], gone: ["vm-1"] });
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
    expect(hedges.isPaused).toBe(true);
    const { r, p } = await held<string>(clock, hedges, 10_000);
    expect(r.sent).toHaveLength(1);
    r.sent[0]!.resolve("ok");
    await p;
    await fast(hedges, 62);
    expect(hedges.isPaused).toBe(true);
    await fast(hedges, 1);
    expect(hedges.isPaused).toBe(false);
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
});
