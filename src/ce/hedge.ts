/**
 * Hedged requests ("The Tail at Scale"): a cloud with few API workers now
 * and then holds one call for a second or more while the calls around it
 * answer at their usual pace. When an idempotent call (a listing, a
 * single-id delete, a look-up; never a create) has not answered after a few
 * times the median latency of that endpoint's recent calls of its kind, one
 * duplicate goes out and the first success answers the caller.
 *
 * Bounded, per endpoint: a duplicate spends a token of a bucket that earns a
 * tenth of one per call (at most ~10% of calls, with a burst of two); and an
 * endpoint where duplicates do not win (fewer than two of the last eight
 * answered first: its slowness is load, not one held call) gets none for
 * the next 64 calls, after which hedging probes again.
 *
 * Pure: the clock and timers are injected, so tests are deterministic.
 */

import type { BulkResult } from "../drivers/driver.js";
import { lruEntry } from "../util/lru.js";
import { median } from "./latency-by-load.js";

export interface HedgeClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemHedgeClock: HedgeClock = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export type HedgeOutcome = "won" | "lost";

export interface HedgeOptions<T> {
  /** Once aborted, no duplicate is sent. */
  readonly signal?: AbortSignal | undefined;
  /** Awaited before the duplicate is sent (its rate-limit turn). */
  readonly ready?: () => Promise<void>;
  /** Whether an answer is a success (a bulk result with failed ids is not); default: any answer. */
  readonly succeeded?: (value: T) => boolean;
  /**
   * Whether the duplicate's success says less than the first request's answer will (a delete's 404:
   * the first request may have deleted it): then the first request answers, and the duplicate only if it fails.
   */
  readonly awaitFirst?: (value: T) => boolean;
  /** A duplicate was sent: whether it answered first. */
  readonly onOutcome?: (outcome: HedgeOutcome) => void;
  /** Milliseconds after the first request the request that answered first was sent (0: the first one). */
  readonly onWinner?: (sentAfterMs: number) => void;
}

/** What a caller of a hedged call says about its answers. */
export type Hedgeable<T> = Pick<HedgeOptions<T>, "succeeded" | "awaitFirst">;

/**
 * A single-id delete is done once either request deleted it. The duplicate's 404 (`gone`) may be the
 * first request's own work or another cleanup's: only the first request knows, so it answers (bounded
 * by the request timeout and the stop grace); if it fails, the duplicate's gone answers as it is.
 */
export const DELETE_HEDGE: Hedgeable<BulkResult> = {
  succeeded: (r) => r.failed.length === 0,
  awaitFirst: (r) => (r.gone?.length ?? 0) > 0,
};

/** Recent answered calls per kind whose median sets the delay. */
const KEPT = 16;
/** Answered calls of a kind before any of its calls is hedged. */
const MIN_SAMPLES = 5;
/** A call is hedged once it has taken this many times the median... */
const DELAY_FACTOR = 3;
/** ...and never before this (timer and event-loop noise). */
const DELAY_FLOOR_MS = 50;
/** Calls that earn one hedge, and the hedges kept: at most ~10% of calls, two at once. */
const CALLS_PER_HEDGE = 10;
const BURST = 2 * CALLS_PER_HEDGE;
/** Hedges judged, the wins among them below which hedging pauses, and the calls the pause lasts. */
const JUDGED = 8;
const MIN_WINS = 2;
const PAUSE_CALLS = 64;

/** `send()`, with a synchronous throw as a rejection. */
function call<T>(send: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
  try {
    return send(signal);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Runs a caller's callback; its error must not lose the call's answer. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // The answer stands.
  }
}

type Answer<T> = { readonly ok: boolean; readonly value?: T; readonly error?: unknown; readonly rejected: boolean };

/** What one endpoint's calls took and what its hedges did. */
export class EndpointHedges {
  /** Per kind of call (a listing's kind names its filter: a big CE's listings are not a small one's). */
  private readonly kinds = new Map<string, KindState>();
  /** Calls earned towards hedges (an integer: a sum of tenths would never quite reach one). */
  private credit = BURST;

  constructor(private readonly clock: HedgeClock = systemHedgeClock) {}

  private state(kind: string): KindState {
    return lruEntry(this.kinds, kind, MAX_KINDS, () => ({ latencies: [], outcomes: [], paused: 0 }));
  }

  /** The delay after which a call of `kind` gets a duplicate now; undefined: none. */
  delay(kind: string): number | undefined {
    const { latencies, paused } = this.state(kind);
    if (paused > 0 || latencies.length < MIN_SAMPLES) return undefined;
    return Math.max(DELAY_FLOOR_MS, DELAY_FACTOR * median(latencies));
  }

  /** Whether hedging calls of `kind` is paused (their hedges did not win). */
  isPaused(kind: string): boolean {
    return this.state(kind).paused > 0;
  }

  /**
   * Sends `send()`, and once more if it is slow; settles with the first success, else the first
   * request's answer. Once it settles, each request's signal aborts: the loser is nobody's to wait for.
   */
  run<T>(kind: string, send: (signal: AbortSignal) => Promise<T>, options: HedgeOptions<T> = {}): Promise<T> {
    this.credit = Math.min(BURST, this.credit + 1);
    const delay = this.delay(kind);
    const state = this.state(kind);
    if (state.paused > 0) state.paused--;
    const succeeded = options.succeeded ?? (() => true);
    const answer = (p: Promise<T>): Promise<Answer<T>> =>
      p.then(
        (value) => ({ ok: succeeded(value), value, rejected: false }),
        (error: unknown) => ({ ok: false, error, rejected: true }),
      );
    const started = this.clock.now();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let first: Answer<T> | undefined;
      let hedge: "unsent" | "waiting" | "sent" | "failed" = "unsent";
      let hedgeSentAt = 0;
      /** A duplicate's success that waits for the first request's answer. */
      let parked: Answer<T> | undefined;
      // The caller's answer comes first: a callback that throws must not leave the call pending.
      const requests = [new AbortController(), new AbortController()] as const;
      const settle = (a: Answer<T>, byHedge: boolean): void => {
        settled = true;
        cancel();
        for (const r of requests) r.abort();
        if (a.rejected) reject(a.error);
        else resolve(a.value as T);
        quietly(() => {
          if (hedge === "sent" || hedge === "failed") judge(state, byHedge, options.onOutcome);
        });
        if (a.ok) sample(state, this.clock.now() - (byHedge ? hedgeSentAt : started));
        quietly(() => options.onWinner?.(byHedge ? hedgeSentAt - started : 0));
      };
      const fire = async (): Promise<void> => {
        if (settled || options.signal?.aborted || this.credit < CALLS_PER_HEDGE) return;
        this.credit -= CALLS_PER_HEDGE;
        hedge = "waiting";
        await options.ready?.().catch(() => undefined);
        if (settled || options.signal?.aborted) {
          hedge = "unsent";
          this.credit = Math.min(BURST, this.credit + CALLS_PER_HEDGE);
          if (!settled && first) settle(first, false);
          return;
        }
        hedge = "sent";
        hedgeSentAt = this.clock.now();
        const a = await answer(call(send, requests[1].signal));
        if (settled) return;
        if (a.ok && options.awaitFirst?.(a.value as T) === true && !first) parked = a;
        else if (a.ok && !first?.ok) settle(a, true);
        else if (first) settle(first, false);
        else hedge = "failed";
      };
      const cancel = delay === undefined ? () => undefined : this.clock.after(delay, () => void fire());
      void answer(call(send, requests[0].signal)).then((a) => {
        first = a;
        if (settled) return;
        // A failure waits for a duplicate on its way; without one it is the answer.
        if (a.ok || hedge === "unsent" || hedge === "failed") settle(a, false);
        else if (parked) settle(parked, true);
      });
    });
  }
}

interface KindState {
  readonly latencies: number[];
  outcomes: boolean[];
  paused: number;
}

/** Kinds of call remembered per endpoint at most; the least recently used is forgotten first. */
const MAX_KINDS = 64;

function sample(state: KindState, ms: number): void {
  state.latencies.push(ms);
  if (state.latencies.length > KEPT) state.latencies.shift();
}

function judge(state: KindState, won: boolean, onOutcome?: (o: HedgeOutcome) => void): void {
  onOutcome?.(won ? "won" : "lost");
  state.outcomes.push(won);
  if (state.outcomes.length < JUDGED) return;
  if (state.outcomes.filter(Boolean).length < MIN_WINS) state.paused = PAUSE_CALLS;
  state.outcomes = [];
}

/** Endpoints remembered at most; the least recently used is forgotten first. */
const MAX_ENDPOINTS = 256;
const endpoints = new Map<string, EndpointHedges>();

/** The hedging state of one endpoint, shared by every CE of the process. */
export function endpointHedges(key: string): EndpointHedges {
  return lruEntry(endpoints, key, MAX_ENDPOINTS, () => new EndpointHedges());
}

/** Forgets every endpoint's hedging state (tests). */
export function resetEndpointHedges(): void {
  endpoints.clear();
}
