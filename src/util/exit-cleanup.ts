/**
 * Clean-ups that must run however the process ends: a normal exit, an
 * uncaught exception, or SIGINT, SIGTERM or SIGHUP (SIGKILL cannot be
 * caught: that is why secrets are kept in memory wherever possible).
 *
 * A clean-up is synchronous (nothing asynchronous runs at `exit`) and must
 * be safe to run more than once: it runs at the signal and again at exit.
 *
 * Signals: when nobody else listens for the signal, the clean-ups run and
 * the signal is raised again, so the process ends exactly as it would have
 * without this module (killed by that signal). When someone else listens
 * (the CLI's graceful stop, `cloudce serve`), the clean-ups run and that
 * listener decides what happens next; the process exits through `exit`
 * later, where the clean-ups run once more.
 */

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let installed = false;

/** Registers `cleanup`; returns a function that unregisters it. */
export function onProcessExit(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  install();
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Runs every registered clean-up now (e.g. from a shutdown handler of one's own). One failing never stops the others. */
export function runExitCleanups(): void {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // Best effort at exit: there is nobody left to report to.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runExitCleanups);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  runExitCleanups();
  if (process.listenerCount(signal) > 1) return;
  // Alone: end the way the signal would have ended the process.
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}
