/**
 * How many calls that cannot be batched (deletes, per-VM creates, look-ups)
 * one cloud endpoint gets at once, learnt from what it answers. A cloud with
 * many API workers answers as fast with eight calls in flight as with one; a
 * small one queues them, and every call then takes longer for no gain, with
 * a long tail. The limiter compares each call's latency with the fastest
 * recent latency of the same kind of call (the cloud's unloaded time) and
 * estimates, as TCP Vegas does, how many of the calls in flight the cloud
 * was actually serving and how many were waiting:
 *
 * - hardly any waiting, and the limit was in use: one more (doubling per
 *   round until the first sign of queueing, then one per round);
 * - calls waiting: down to what the cloud served, never below half at once
 *   (one slow answer is not a verdict) nor below one;
 * - a throttled answer or a timeout: half.
 *
 * Pure: the clock is injected, so tests replay a cloud deterministically.
 */

/** How the cloud answered a call, as far as the limit is concerned. */
export type CallOutcome = "ok" | "overloaded" | "ignored";

/** A call that was never sent: its caller stopped while it waited for a slot or its turn. */
export class NotSent extends Error {
  constructor() {
    super("not sent: stopped while waiting for a free slot");
  }
}

export interface RunOptions {
  /** Once aborted, a call still waiting for its slot rejects with {@link NotSent}. */
  readonly signal?: AbortSignal;
  /** What a failure says about the cloud's load; default: nothing. */
  readonly judge?: (err: unknown) => CallOutcome;
  /** Awaited once the slot is taken and before the clock starts (e.g. a rate limit's turn). */
  readonly ready?: () => Promise<void>;
}

export interface AdaptiveLimitOptions {
  /** The upper bound (Submit_Concurrency of the CEs that use it). */
  readonly max: number;
  /** Where the limit starts; default 1 (the first call measures the unloaded latency). */
  readonly initial?: number;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
}

/** Calls waiting behind the cloud's workers below which latency counts as flat. */
const FLAT_QUEUE = 0.5;
/** Calls waiting from which the limit comes down. */
const QUEUEING = 1;
/** Latency jitter never read as queueing (a busy client's event loop, a local cloud's noise). */
const JITTER_MS = 2;
/** Recent samples per kind of call from which the unloaded latency is taken (their minimum). */
const WINDOW = 64;

/** The fastest of the recent latencies of one kind of call. */
class MinWindow {
  private readonly samples: number[] = [];
  add(ms: number): number {
    this.samples.push(ms);
    if (this.samples.length > WINDOW) this.samples.shift();
    return Math.min(...this.samples);
  }
}

export class AdaptiveLimit {
  private value: number;
  private upper: number;
  private slowStart = true;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly unloaded = new Map<string, MinWindow>();
  private readonly now: () => number;

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
    const started = this.now();
    let outcome: CallOutcome = "ok";
    try {
      return await call();
    } catch (err) {
      outcome = judge(err);
      throw err;
    } finally {
      // The busier of its start and its end: calls that joined it may have shared the cloud's workers with it.
      const load = Math.max(atStart, this.inFlight);
      this.inFlight--;
      this.learn(kind, outcome, this.now() - started, load, limitAtStart);
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

  /** One finished call: `load` calls (itself included) were in flight with it, under a limit of `limitAtStart`. */
  private learn(kind: string, outcome: CallOutcome, ms: number, load: number, limitAtStart: number): void {
    if (outcome === "ignored") return;
    if (outcome === "overloaded") {
      this.slowStart = false;
      this.value = Math.max(1, this.value / 2);
      return;
    }
    let window = this.unloaded.get(kind);
    if (!window) this.unloaded.set(kind, (window = new MinWindow()));
    const base = Math.max(window.add(ms), 0.001);
    const effective = Math.max(base, ms - JITTER_MS);
    const served = load * (base / effective);
    const queued = load - served;
    if (queued >= QUEUEING) {
      this.slowStart = false;
      this.value = Math.max(1, Math.min(this.value, Math.max(served, this.value / 2)));
    } else if (queued < FLAT_QUEUE && load * 2 >= limitAtStart) {
      // Only a limit in use is raised: a caller with one call at a time proves nothing about eight.
      this.value = Math.min(this.upper, this.value + (this.slowStart ? 1 : 1 / this.limit));
    }
  }
}
