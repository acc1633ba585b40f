/** Injected faults that fire a set number of times, as the EC2 and GCE test servers take them. */

export interface QueuedFault {
  /** How many matching calls it affects (default 1). */
  readonly times?: number;
  /** Runs when the fault fires, before the call is answered (e.g. to change the cloud between two pages). */
  readonly before?: () => void;
}

export class FaultQueue<F extends QueuedFault> {
  private pending: { readonly fault: F; left: number }[] = [];
  private firedCount = 0;

  add(fault: F): void {
    this.pending.push({ fault, left: fault.times ?? 1 });
  }

  /** The first pending fault `matches` accepts, consuming one of its times. */
  take(matches: (fault: F) => boolean): F | undefined {
    const entry = this.pending.find((p) => p.left > 0 && matches(p.fault));
    if (!entry) return undefined;
    entry.left -= 1;
    this.firedCount += 1;
    entry.fault.before?.();
    this.pending = this.pending.filter((p) => p.left > 0);
    return entry.fault;
  }

  /** Calls a fault fired on, since the start (clear() keeps the count). */
  fired(): number {
    return this.firedCount;
  }

  clear(): void {
    this.pending = [];
  }
}

/** What a test cloud server with injected faults offers its tests and benchmarks. */
export interface FaultingServer<F extends QueuedFault> {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Calls per action or method, faulted ones included. */
  readonly calls: Record<string, number>;
  inject(fault: F): void;
  /** Calls refused by the server's rate limit (they are counted in `calls` too). */
  throttled(): number;
  /** Calls an injected fault fired on, since the start. */
  faultsFired(): number;
  /** Requests being handled now (a delayed one counts until it has acted). */
  inFlight(): number;
  /** Drops pending faults, counters and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}
