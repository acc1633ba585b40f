/** How a command is stopped: a stop signal aborts it, and a command that cannot stop itself is abandoned. */

import { CloudceError } from "../errors.js";
import type { Output } from "./output.js";
import { listenForStopSignals, type StopSignals } from "./stop-signals.js";

/**
 * The first SIGINT/SIGTERM aborts the command (see stop-signals.ts), as does
 * the embedder's signal; the command then exits 130/143 after printing what
 * it did. A plain listener links the embedder's signal: Node 20 may collect
 * an AbortSignal.any() before it fires.
 */
export function onSignals(
  outer: AbortSignal | undefined,
  out: Output,
): { stop: StopSignals; signal: AbortSignal; dispose: () => void } {
  const stop = listenForStopSignals((sig) =>
    out.progress(`${sig}: stopping; calls in flight get Cloud_RequestTimeout to finish`),
  );
  if (!outer) return { stop, signal: stop.signal, dispose: () => stop.release() };
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  stop.signal.addEventListener("abort", abort, { once: true });
  if (outer.aborted) abort();
  else outer.addEventListener("abort", abort, { once: true });
  return {
    stop,
    signal: controller.signal,
    dispose: () => {
      stop.release();
      outer.removeEventListener("abort", abort);
    },
  };
}

/** The work's value, or an interruption error as soon as the signal aborts (the work is left behind). */
export function abandonedAt<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (): void =>
      reject(new CloudceError("Timeout", "interrupted: stopped before the cloud answered; nothing was changed"));
    if (signal.aborted) return stop();
    signal.addEventListener("abort", stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}
