/** What callers of the adaptive limit give it and get from it. */

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
  /**
   * The latency to learn from, given the call's (start to answer); default: that one.
   * A hedged call answered by its duplicate gives the duplicate's own latency.
   */
  readonly sample?: (ms: number) => number;
}

export interface AdaptiveLimitOptions {
  /** The upper bound (Submit_Concurrency of the CEs that use it). */
  readonly max: number;
  /** Where the limit starts; default 1 (the first call measures the unloaded latency). */
  readonly initial?: number;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
}
