/**
 * What one kind of call has taken, by how many calls were in flight: the
 * last few latencies at each load, and the fastest recent latency of any
 * load. The typical latency of single calls is their median: one slow
 * answer (a cloud worker's first request) must not make concurrency look
 * free. Under load it is their mean: the first call of a queue is served
 * at once, and a median would hide what the others waited, while by
 * Little's law the mean is what tells how many calls the cloud served.
 */

/** Latencies kept per number of calls in flight. */
export const KEPT = 5;
/** Recent samples, of any load, from which the fastest latency is taken. */
const WINDOW = 64;

/** The middle value (the mean of the two middle ones). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class LatencyByLoad {
  private readonly recent: number[] = [];
  private readonly byLoad = new Map<number, number[]>();

  add(ms: number, load: number): void {
    this.recent.push(ms);
    if (this.recent.length > WINDOW) this.recent.shift();
    const kept = this.byLoad.get(load) ?? [];
    kept.push(ms);
    if (kept.length > KEPT) kept.shift();
    this.byLoad.set(load, kept);
  }

  /** Samples kept at `load`. */
  count(load: number): number {
    return this.byLoad.get(load)?.length ?? 0;
  }

  /** The typical latency at `load` (which has samples). */
  at(load: number): number {
    const kept = this.byLoad.get(load) ?? [0];
    return load === 1 ? median(kept) : kept.reduce((a, b) => a + b, 0) / kept.length;
  }

  /**
   * The latency to compare a load with: the fastest typical one at a lower
   * load (the machine's and the cloud's noise is in both), else the fastest
   * recent one.
   */
  reference(load: number): number {
    let best: number | undefined;
    for (const l of this.byLoad.keys()) {
      if (l >= load) continue;
      const typical = this.at(l);
      if (best === undefined || typical < best) best = typical;
    }
    return best ?? Math.min(...this.recent);
  }

  /**
   * Forgets what loads from `load` up took: the limit is about to allow
   * them again, and what they took then (before the cloud or the machine
   * changed) must not decide on its own what they take now.
   */
  forgetFrom(load: number): void {
    for (const l of [...this.byLoad.keys()]) if (l >= load) this.byLoad.delete(l);
  }
}
