/**
 * SIGINT/SIGTERM during a command that creates or deletes VMs (`submit`, a
 * one-shot `cleanup`): the first signal stops the CE call the way its abort
 * signal does (no new create or delete, calls in flight get
 * Cloud_RequestTimeout), so the command still prints what it did and the
 * journal matches the cloud. A second signal exits at once.
 */

/** Exit status after a stop signal, as shells report it (128 + signal number). */
const EXIT_BY_SIGNAL: Readonly<Partial<Record<NodeJS.Signals, number>>> = { SIGINT: 130, SIGTERM: 143 };
const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

export interface StopSignals {
  readonly signal: AbortSignal;
  /** The signal that stopped the command, if one did. */
  stoppedBy(): NodeJS.Signals | undefined;
  /** The exit status the command should end with, given a signal arrived. */
  exitCode(): number | undefined;
  /** Removes the handlers (the process's default reaction comes back). */
  release(): void;
}

export function listenForStopSignals(
  onFirst: (sig: NodeJS.Signals) => void,
  onSecond: (sig: NodeJS.Signals) => void = forceExit,
): StopSignals {
  const controller = new AbortController();
  let first: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals): void => {
    if (first) {
      onSecond(sig);
      return;
    }
    first = sig;
    onFirst(sig);
    controller.abort();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    signal: controller.signal,
    stoppedBy: () => first,
    exitCode: () => (first ? (EXIT_BY_SIGNAL[first] ?? 1) : undefined),
    release: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}

function forceExit(sig: NodeJS.Signals): void {
  process.stderr.write(
    `cloudce: second ${sig}: exiting now; VMs still being created carry this CE's tags, so cleanup finds them\n`,
  );
  process.exit(EXIT_BY_SIGNAL[sig] ?? 1);
}
