/**
 * Stopping a CE call half-way (a signal to the CLI, `serve` shutting down).
 * Once the caller's signal aborts, no new cloud create or delete starts;
 * everything still to do (creates in flight, the listing that looks for
 * VMs whose answer was lost, a renewed resolution) shares one `graceMs` from
 * the abort (the CE uses Cloud_RequestTimeout), and what has not answered by
 * then is abandoned: its promise still settles later, and the CE records what
 * it made then. A caller waiting on the CE needs its own deadline plus one
 * Cloud_RequestTimeout, and a margin for the answer to travel.
 */

import { setMaxListeners } from "node:events";

export interface StopControl {
  readonly signal?: AbortSignal;
  /** How long a call in flight may still take once the signal aborted (ms). */
  readonly graceMs: number;
}

export type Settled<T> = { readonly answered: true; readonly value: T } | { readonly answered: false };

/**
 * The end of the grace: one timer per signal and bound, started when the
 * signal aborts (asked for only once it has), shared by every call waited on after it (creates in flight,
 * the lost-answer listing, a renewed resolution). So everything after a stop
 * takes at most one `graceMs`, however many calls follow one another.
 */
const graceEnds = new WeakMap<AbortSignal, Map<number, Promise<void>>>();

function graceEnd(signal: AbortSignal, graceMs: number): Promise<void> {
  let byBound = graceEnds.get(signal);
  if (!byBound) {
    byBound = new Map();
    graceEnds.set(signal, byBound);
  }
  let end = byBound.get(graceMs);
  if (!end) {
    end = new Promise<void>((resolve) => {
      // Unreferenced: the calls waited on keep the process alive, not the bound.
      const start = (): void => void setTimeout(resolve, graceMs).unref();
      if (signal.aborted) start();
      else signal.addEventListener("abort", start, { once: true });
    });
    byBound.set(graceMs, end);
  }
  return end;
}

/**
 * The work's value, or `answered: false` once the signal aborted and the
 * shared grace ran out first (a call started after the abort gets only what is
 * left of it). Rejections pass through.
 */
export function withinGrace<T>(work: Promise<T>, stop: StopControl): Promise<Settled<T>> {
  const { signal, graceMs } = stop;
  const answered = work.then((value): Settled<T> => ({ answered: true, value }));
  if (!signal) return answered;
  // Attached to the signal only while the work runs, and to the grace only once the signal
  // aborted: a server-wide signal that never aborts must not keep every call's result alive.
  return new Promise<Settled<T>>((resolve, reject) => {
    const giveUp = (): void => void graceEnd(signal, graceMs).then(() => resolve({ answered: false }));
    const done = (): void => signal.removeEventListener("abort", giveUp);
    if (signal.aborted) giveUp();
    else signal.addEventListener("abort", giveUp, { once: true });
    answered.then(
      (v) => {
        done();
        resolve(v);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}

/** The note an interrupted call returns alongside its (partial) result. */
export function interruptedNote(what: string, detail: string): string {
  return `${what} interrupted: ${detail}`;
}

/**
 * The note a submission that made fewer pilots than asked returns: the count
 * and the error codes, e.g. `10 of 12 pilots created; 2 not: QuotaExceeded ×2`.
 */
export function partialNote(made: number, asked: number, codes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  const why = [...counts].map(([code, n]) => (n === 1 ? code : `${code} ×${n}`)).join(", ");
  return `${made} of ${asked} pilots created; ${asked - made} not${why ? `: ${why}` : ""}`;
}

/**
 * A stop control of its own for one batch of concurrent calls, aborted with
 * `outer`: the caller's signal (serve's is shared by every request and lives
 * as long as the server) gets one listener per batch, not one per call, and
 * loses it at `end()`.
 */
export function scopedStop(outer: StopControl): { readonly stop: StopControl; end(): void } {
  const { signal } = outer;
  if (!signal) return { stop: outer, end: () => undefined };
  const scoped = new AbortController();
  // Every call of the batch may listen here at once (its turn under the endpoint's limit, its answer's grace,
  // recoveries, fallback rounds, look-ups): all of them are removed as the calls settle and the signal lives
  // only as long as the batch, so no count of them is a leak. The caller's long-lived signal keeps its default.
  setMaxListeners(0, scoped.signal);
  const abort = (): void => scoped.abort(signal.reason);
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return { stop: { ...outer, signal: scoped.signal }, end: () => signal.removeEventListener("abort", abort) };
}
