/**
 * How many calls that cannot be batched (deletes, per-VM creates, look-ups)
 * one cloud endpoint gets at once, learnt from what it answers. A cloud with
 * many API workers answers as fast with eight calls in flight as with one; a
 * small one queues them, and every call then takes longer for no gain, with
 * a long tail. The limiter keeps, per kind of call and per number of calls
 * in flight, the last few latencies; it compares the latency at the load a
 * call ran under (their mean) with the typical latency at lower loads (else the fastest
 * recent one), so noise that slows every call alike (a busy machine) is not
 * read as queueing, and estimates, as TCP Vegas does, how many of the calls
 * in flight the cloud was actually serving and how many were waiting:
 *
 * - it starts at one call, and a second joins only once three single calls
 *   have given the cloud's pace (a cloud worker's first request may take
 *   seconds, which must not make concurrency look free);
 * - slow start judges each call by the calls in flight when it started: two
 *   flat answers from calls started at the limit n raise it to n + n/2 (at
 *   least n+1); two whose mean is 1.6 times that of a lower load bring it
 *   back to the last flat load, held for 128 calls (a collapsing cloud);
 * - after, hardly any waiting over two calls at that load, and the limit was
 *   in use: one more per round;
 * - calls waiting over three calls or more at that load, five from four
 *   (two at once each taking 1.6 times as long as one, three 1.33 times,
 *   four or more 1.5 times): down to what the cloud served, never below
 *   half at once, nor below the load last found flat, nor below one; a
 *   load just tried is then not tried again for 16 calls, twice as long
 *   each time it makes calls wait again, since each try costs a slow round;
 * - a throttled answer or a timeout: half.
 *
 * Once calls have waited, only calls started under the current limit judge
 * it: those in flight when it rose were served ahead of the newcomers.
 *
 * Pure: the clock is injected, so tests replay a cloud deterministically.
 */

import { KEPT, LatencyByLoad } from "./latency-by-load.js";

import type { AdaptiveLimitOptions, CallOutcome, RunOptions } from "./limit-types.js";
import { NotSent } from "./limit-types.js";

export { type AdaptiveLimitOptions, type CallOutcome, NotSent, type RunOptions } from "./limit-types.js";

/**
 * Calls waiting behind the cloud's workers below which latency counts as
 * flat: half a call, or a fifth of those in flight (latency within 25%).
 */
const flat = (load: number): number => Math.max(0.5, 0.2 * load);
/**
 * Calls waiting from which the limit comes down: up to three in flight,
 * three quarters of a call (two at once each taking 1.6 times as long as
 * one: a cloud that serves one at a time, less jitter; three at once 1.33
 * times as long: one of them waits for two workers); from four, a third of
 * those in flight (latency up by half: the client's own event loop and a
 * busy machine add some, which must not read as the cloud's queue).
 */
const queueing = (load: number): number => (load < 4 ? 0.75 : load / 3);
/** Latency jitter never read as queueing (timer and event-loop noise). */
const JITTER_MS = 3;
/** Single calls timed before a second one may join them: one slow first answer is not the cloud's pace. */
const BASE_SAMPLES = 3;
/** Calls during which a load that made calls wait is not tried again; doubled each time it does so again. */
const HOLD_FIRST = 16;
const HOLD_MAX = 512;
/** The hold after a load at which latency grew by half or more on the first ramp: each try costs a slow round. */
const HOLD_COLLAPSE = 128;
/** Calls started at a load that tell, in slow start, whether it is flat. */
const RAMP_SAMPLES = 2;
/** Latency growth over a lower load below which slow start goes on, and from which it stops. */
const RAMP_FLAT = 1.2;
const RAMP_GROWTH = 1.6;
/** Rounds at a load after the limit reached it within which calls waiting there mean it was too many. */
const TRIED_ROUNDS = 3;

export class AdaptiveLimit {
  private value: number;
  private upper: number;
  private slowStart = true;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly latencies = new Map<string, LatencyByLoad>();
  private readonly now: () => number;
  /** Calls learnt from so far: the clock of the hold below. */
  private finished = 0;
  /** The lowest load that last made calls wait; not allowed again before `holdUntil`. */
  private ceiling: number | undefined;
  private holdUntil = 0;
  private hold = HOLD_FIRST;
  /** The load of the last call that found latency flat and raised the limit. */
  private flatLoad: number | undefined;
  /** `finished` when the limit last rose. */
  private raisedAt = 0;
  /** Moves with the limit. */
  private epoch = 0;

  constructor(options: AdaptiveLimitOptions) {
    this.upper = Math.max(1, Math.floor(options.max));
    this.value = Math.min(this.upper, Math.max(1, options.initial ?? 1));
    this.now = options.now ?? (() => performance.now());
  }

  /** Calls allowed in flight now. */
  get limit(): number {
    return Math.max(1, Math.floor(this.value));
  }

  get max(): number {
    return this.upper;
  }

  get active(): number {
    return this.inFlight;
  }

  /** A CE with a higher Submit_Concurrency raises the bound (each CE still keeps to its own). */
  raiseMax(max: number): void {
    this.upper = Math.max(this.upper, Math.max(1, Math.floor(max)));
  }

  /**
   * Runs `call` once a slot is free and learns from its latency. A success
   * is always a sample; a failure only where `judge` says what it means (a
   * throttled answer is a verdict on the load, a 404 is not).
   */
  async run<T>(kind: string, call: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const judge = options.judge ?? (() => "ignored");
    await this.acquire(options.signal);
    try {
      await options.ready?.();
      if (options.signal?.aborted) throw new NotSent();
    } catch (err) {
      this.inFlight--;
      this.wake();
      throw err;
    }
    const atStart = this.inFlight;
    const limitAtStart = this.limit;
    const epoch = this.epoch;
    const started = this.now();
    let outcome: CallOutcome = "ok";
    try {
      return await call();
    } catch (err) {
      outcome = judge(err);
      throw err;
    } finally {
      // The busier of its start and its end: calls that joined it may have shared the cloud's workers with it.
      // Once calls have waited, a call started before the limit last moved ran under the old one: it is
      // a sample at the load it started with, and no verdict on the new limit (the calls in flight when
      // it rose are served first). In slow start, only the load it started with: calls that joined it
      // later found it already served, and one started under a lower limit says nothing about a higher one.
      const current = epoch === this.epoch || this.slowStart;
      const load = current && !this.slowStart ? Math.max(atStart, this.inFlight) : atStart;
      this.inFlight--;
      const ms = this.now() - started;
      this.learn(kind, outcome, options.sample?.(ms) ?? ms, load, current ? limitAtStart : 0);
      this.wake();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new NotSent());
    if (this.inFlight < this.limit && this.waiting.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener("abort", giveUp);
        this.inFlight++;
        resolve();
      };
      const giveUp = (): void => {
        const at = this.waiting.indexOf(turn);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new NotSent());
      };
      this.waiting.push(turn);
      signal?.addEventListener("abort", giveUp, { once: true });
    });
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.inFlight < this.limit) this.waiting.shift()!();
  }

  /**
   * One finished call: `load` calls (itself included) were in flight with
   * it, under a limit of `limitAtStart`; 0 for a call started under an
   * earlier limit, which is a sample and no verdict.
   */
  private learn(kind: string, outcome: CallOutcome, ms: number, load: number, limitAtStart: number): void {
    if (outcome === "ignored") return;
    this.finished++;
    if (outcome === "overloaded") {
      this.slowStart = false;
      this.set(this.value / 2);
      return;
    }
    const seen = this.latencies.get(kind) ?? new LatencyByLoad();
    this.latencies.set(kind, seen);
    seen.add(ms, load);
    // One call at a load is no verdict: the first of a queue is served at once, and one answer may be slow.
    if (limitAtStart === 0 || (load > 1 && seen.count(load) < 2)) return;
    const typical = Math.max(seen.at(load), 0.001);
    const base = Math.min(seen.reference(load), typical);
    // How many of the calls in flight waited, had they all taken `ms` (the cloud served the others).
    const waited = (ms: number): number => load - load * (base / Math.max(base, ms - JITTER_MS));
    if (this.slowStart && load > 1) {
      this.ramp(seen, load, typical / base);
      return;
    }
    // Down on three calls or more, five from four in flight (one slow answer, or a short stall of the
    // machine that slows a round of calls alike, is no verdict); up on two.
    const verdict = seen.count(load) >= (load < 4 ? 3 : KEPT);
    if (verdict && waited(typical) >= queueing(load)) this.lower(load - waited(typical), load);
    else if (waited(typical) < flat(load) && load * 2 >= limitAtStart && this.mayRaise(seen)) this.raise(seen, load);
  }

  /**
   * The first ramp: calls judge only the load they started with. Two flat answers at the limit raise
   * it; two at a load whose latency grew (by `growth` over a lower load) bring it back to the last
   * flat load, and that load is held like one that made calls wait.
   */
  private ramp(seen: LatencyByLoad, load: number, growth: number): void {
    if (seen.count(load) < RAMP_SAMPLES) return;
    if (growth >= RAMP_GROWTH) {
      this.hold = HOLD_COLLAPSE;
      this.lower(this.flatLoad ?? load - 1, load);
    } else if (growth < RAMP_FLAT && load >= this.limit && this.mayRaise(seen)) {
      // Half as many again, at least one: a cloud that collapses at n+1 gets n+1 calls, never 2n.
      this.raise(seen, load, load + Math.max(1, load >> 1));
    }
  }

  /**
   * Calls waited at `load`: down to what the cloud served. A load just
   * tried (within a few rounds of the limit reaching it) is then not tried
   * again for a while; one the limit had held for long made calls wait
   * because the cloud or the machine changed, and is tried again as usual.
   */
  private lower(served: number, load: number): void {
    this.slowStart = false;
    // Never below a lower load whose latency was last found flat: that one the cloud serves.
    const flatBelow = this.flatLoad !== undefined && this.flatLoad < load ? this.flatLoad : 1;
    this.flatLoad = undefined;
    this.set(Math.min(this.value, Math.max(served, this.value / 2, flatBelow)));
    if (this.finished - this.raisedAt > TRIED_ROUNDS * load) {
      this.ceiling = undefined;
      this.hold = HOLD_FIRST;
      return;
    }
    // A load that made calls wait again after its hold was over is held twice as long.
    if (this.ceiling !== undefined && load >= this.ceiling && this.finished >= this.holdUntil)
      this.hold = Math.min(HOLD_MAX, this.hold * 2);
    this.ceiling = Math.min(this.ceiling ?? load, load);
    this.holdUntil = this.finished + this.hold;
  }

  /**
   * Whether a call at `load` that found latency flat may raise the limit:
   * only a limit in use (a caller with one call at a time proves nothing
   * about eight), only once a few single calls have given the cloud's pace,
   * and not onto a load that made calls wait until its hold is over.
   */
  private mayRaise(seen: LatencyByLoad): boolean {
    if (this.limit === 1 && seen.count(1) < BASE_SAMPLES) return false;
    const next = Math.floor(this.value + this.step());
    return this.ceiling === undefined || next < this.ceiling || this.finished >= this.holdUntil;
  }

  private step(): number {
    return this.slowStart ? 1 : 1 / this.limit;
  }

  /** Latency stayed flat at `load`: one more (one per call in slow start, one per round after). */
  private raise(seen: LatencyByLoad, load: number, to = this.value + this.step()): void {
    // Flat at or above the load that made calls wait, over several calls there (the first of a queue
    // is served at once): whatever made them wait is gone.
    if (this.ceiling !== undefined && load >= this.ceiling && seen.count(load) >= KEPT) {
      this.ceiling = undefined;
      this.hold = HOLD_FIRST;
    }
    this.flatLoad = load;
    const before = this.limit;
    this.set(Math.min(this.upper, to));
    if (this.limit === before) return;
    this.raisedAt = this.finished;
    for (const seen of this.latencies.values()) seen.forgetFrom(this.limit);
  }

  /** Moves the limit; calls started before it moves are no verdict on the new one. */
  private set(value: number): void {
    const before = this.limit;
    this.value = Math.max(1, value);
    if (this.limit !== before) this.epoch++;
  }
}
