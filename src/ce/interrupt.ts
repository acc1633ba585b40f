/**
 * Stopping a CE call half-way (a signal to the CLI, `serve` shutting down).
 * Once the caller's signal aborts, no new cloud create or delete starts;
 * a call already in flight gets `graceMs` more to answer (the CE uses
 * Cloud_RequestTimeout) and is abandoned after that: its promise still
 * settles later, and the CE records what it made then.
 */

export interface StopControl {
  readonly signal?: AbortSignal;
  /** How long a call in flight may still take once the signal aborted (ms). */
  readonly graceMs: number;
}

export type Settled<T> = { readonly answered: true; readonly value: T } | { readonly answered: false };

/** The work's value, or `answered: false` when the signal aborted and the grace ran out first. Rejections pass through. */
export function withinGrace<T>(work: Promise<T>, stop: StopControl): Promise<Settled<T>> {
  const { signal, graceMs } = stop;
  const answered = work.then((value): Settled<T> => ({ answered: true, value }));
  if (!signal) return answered;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const givenUp = new Promise<Settled<T>>((resolve) => {
    const start = (): void => {
      timer = setTimeout(() => resolve({ answered: false }), graceMs);
    };
    if (signal.aborted) start();
    else {
      onAbort = start;
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  return Promise.race([answered, givenUp]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  });
}

/** The note an interrupted call returns alongside its (partial) result. */
export function interruptedNote(what: string, detail: string): string {
  return `${what} interrupted: ${detail}`;
}
