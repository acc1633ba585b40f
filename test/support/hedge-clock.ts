/** Hedged requests under test (src/ce/hedge.ts): a hand-moved clock and requests answered by hand. */

import { EndpointHedges, type HedgeClock, type HedgeOptions } from "../../src/ce/hedge.js";

/** A clock whose timers fire only when a test moves it. */
export class FakeClock implements HedgeClock {
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

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Requests a test answers by hand, in the order they were sent. */
export class Requests<T> {
  readonly sent: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  send = (): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.sent.push({ resolve, reject });
    });
}

/** An endpoint that has seen `n` calls of `kind` each answered after `ms`. */
export async function warmed(clock: FakeClock, kind = "delete", n = 5, ms = 20): Promise<EndpointHedges> {
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
export async function fast(hedges: EndpointHedges, n: number, kind = "delete"): Promise<void> {
  for (let i = 0; i < n; i++) {
    const f = new Requests<string>();
    const q = hedges.run(kind, f.send);
    f.sent[0]!.resolve("ok");
    await q;
  }
}

/** A call of `kind` the clock then moves `ms` past: its requests, and its answer. */
export async function held<T>(
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
