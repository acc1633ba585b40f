/**
 * How many calls that cannot be batched (deletes, per-VM creates, look-ups)
 * one cloud endpoint gets at once, learnt from what it answers. A cloud with
 * many API workers answers as fast with eight calls in flight as with one; a
 * small one queues them, and every call then takes longer for no gain, with
 * a long tail. The limiter keeps, per kind of call and per number of calls
 * in flight, the typical latency; it compares the latency at the load a
 * call ran under with the fastest typical latency at lower loads (else the
 * fastest recent one), so noise that slows every call alike (a busy machine) is not
 * read as queueing, and estimates, as TCP Vegas does, how many of the calls
 * in flight the cloud was actually serving and how many were waiting:
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

/**
 * Calls waiting behind the cloud's workers below which latency counts as
 * flat: half a call, or a fifth of those in flight (latency within 25%).
 */
const flat = (load: number): number => Math.max(0.5, 0.2 * load);
/**
 * Calls waiting from which the limit comes down: one, or a third of those
 * in flight (latency up by half: the client's own event loop and a busy
 * machine add some, which must not read as the cloud's queue).
 */
const queueing = (load: number): number => Math.max(1, load / 3);
/** Latency jitter never read as queueing (timer and event-loop noise). */
const JITTER_MS = 3;
/** Recent samples per kind of call from which the fastest latency is taken. */
const WINDOW = 64;
/** Weight of a new sample in the latency kept for its number of calls in flight. */
const EMA = 0.25;

/**
 * What one kind of call has taken, by how many calls were in flight: the
 * typical latency at each load (a moving average), and the fastest recent one.
 */
class LatencyByLoad {
  private readonly recent: number[] = [];
  private readonly byLoad = new Map<number, number>();

  add(ms: number, load: number): void {
    this.recent.push(ms);
    if (this.recent.length > WINDOW) this.recent.shift();
    const before = this.byLoad.get(load);
    this.byLoad.set(load, before === undefined ? ms : before + EMA * (ms - before));
  }

  at(load: number): number {
    return this.byLoad.get(load)!;
  }

  /**
   * The latency to compare a load with: the fastest typical one at a lower
   * load (the machine's and the cloud's noise is in both), else the fastest
   * recent one.
   */
  reference(load: number): number {
    let best: number | undefined;
    for (const [l, ms] of this.byLoad) if (l < load && (best === undefined || ms < best)) best = ms;
    return best ?? Math.min(...this.recent);
  }
}

export class AdaptiveLimit {
  private value: number;
  private upper: number;
  private slowStart = true;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly latencies = new Map<string, LatencyByLoad>();
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
    let seen = this.latencies.get(kind);
    if (!seen) {
      seen = new LatencyByLoad();
      this.latencies.set(kind, seen);
    }
    seen.add(ms, load);
    const typical = Math.max(seen.at(load), 0.001);
    const base = Math.min(seen.reference(load), typical);
    // How many of the calls in flight the cloud served at once, and how many waited.
    const served = load * (base / Math.max(base, typical - JITTER_MS));
    const queued = load - served;
    if (queued >= queueing(load)) {
      this.slowStart = false;
      this.value = Math.max(1, Math.min(this.value, Math.max(served, this.value / 2)));
    } else if (queued < flat(load) && load * 2 >= limitAtStart) {
      // Only a limit in use is raised: a caller with one call at a time proves nothing about eight.
      this.value = Math.min(this.upper, this.value + (this.slowStart ? 1 : 1 / this.limit));
    }
  }
}
