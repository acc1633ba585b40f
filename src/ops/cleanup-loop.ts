/**
 * The long-running form of cleanup (`cloudce cleanup --every 10m`): a pass,
 * then a wait of the interval plus random jitter (so many CEs started by one
 * timer do not hit the cloud API in step), and again, until stopped.
 *
 * SIGTERM/SIGINT never cut a pass short: deleting VMs half-way would leave
 * the journal and the cloud disagreeing. The current pass finishes, then the
 * loop resolves (exiting 0 is the caller's job). A failing pass is logged and
 * the loop carries on: the next round is the retry.
 */

import { toCloudceError } from "../errors.js";
import { type Logger, silentLogger } from "../log.js";
import { type AcquireLockOptions, withLock } from "../util/lock.js";
import { monotonicNow } from "../util/monotonic.js";
import { pause } from "../util/pause.js";

/** Exit status of a one-shot cleanup skipped because another holds the CE's lock (EX_TEMPFAIL). */
export const EXIT_LOCK_HELD = 75;

export interface RunEveryOptions {
  /** Wait between the end of one pass and the start of the next (ms). */
  readonly intervalMs: number;
  /** Up to this much random extra wait per round (ms; default 0). */
  readonly jitterMs?: number;
  /** One pass; `round` counts from 1. */
  readonly pass: (round: number) => Promise<void>;
  readonly logger?: Logger;
  /** Aborting stops the loop like a signal does (after the current pass). */
  readonly signal?: AbortSignal;
  /** Process signals that stop the loop (default SIGTERM and SIGINT; [] for none). */
  readonly stopSignals?: readonly NodeJS.Signals[];
  /** Stops after this many passes (for tests and `--count`). */
  readonly maxRounds?: number;
  /** Source of randomness for the jitter (tests inject one). */
  readonly random?: () => number;
  /** How to wait (tests inject one); must resolve early when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** How a loop ended. */
export interface LoopResult {
  readonly rounds: number;
  readonly failures: number;
  readonly stoppedBy: NodeJS.Signals | "abort" | "maxRounds";
}

/** Runs passes until a stop signal, an abort, or `maxRounds`. */
export async function runEvery(options: RunEveryOptions): Promise<LoopResult> {
  const log = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? pause;
  const stop = new AbortController();
  let stoppedBy: LoopResult["stoppedBy"] | undefined;
  let inPass = false;
  const requestStop = (why: NodeJS.Signals | "abort"): void => {
    if (stoppedBy) return;
    stoppedBy = why;
    log.info(inPass ? "stop requested: finishing the current pass first" : "stop requested", { signal: why });
    stop.abort();
  };
  const onSignal = (sig: NodeJS.Signals): void => requestStop(sig);
  const onAbort = (): void => requestStop("abort");
  const signals = options.stopSignals ?? ["SIGTERM", "SIGINT"];
  for (const s of signals) process.on(s, onSignal);
  if (options.signal?.aborted) requestStop("abort");
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  let rounds = 0;
  let failures = 0;
  try {
    while (!stoppedBy) {
      rounds++;
      inPass = true;
      failures += await runPass(options.pass, rounds, log);
      inPass = false;
      if (options.maxRounds !== undefined && rounds >= options.maxRounds) {
        stoppedBy ??= "maxRounds";
        break;
      }
      if (stoppedBy) break;
      const waitMs = Math.min(MAX_TIMER_MS, options.intervalMs + Math.floor(random() * (options.jitterMs ?? 0)));
      log.debug("waiting before the next pass", { waitMs, nextRound: rounds + 1 });
      await sleep(waitMs, stop.signal);
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
    options.signal?.removeEventListener("abort", onAbort);
  }
  log.info("cleanup loop stopped", { rounds, failures, stoppedBy: stoppedBy ?? "abort" });
  return { rounds, failures, stoppedBy: stoppedBy ?? "abort" };
}

/** Runs one pass; returns 1 if it failed (logged), 0 otherwise. */
async function runPass(pass: (round: number) => Promise<void>, round: number, log: Logger): Promise<number> {
  const started = monotonicNow();
  try {
    await pass(round);
    log.debug("pass done", { round, ms: Math.round(monotonicNow() - started) });
    return 0;
  } catch (err) {
    const e = toCloudceError(err);
    log.error("pass failed; retrying next round", { round, code: e.code, error: e.message });
    return 1;
  }
}

/**
 * Wraps a pass so it runs holding the CE's lock; when another live process
 * holds it, the round is skipped with a warning (not a failure: the other
 * cleanup is doing the work).
 */
export function lockedPass(
  lockPath: string,
  pass: (round: number) => Promise<void>,
  logger: Logger = silentLogger,
  lockOptions: AcquireLockOptions = {},
): (round: number) => Promise<void> {
  return async (round) => {
    const run = await withLock(lockPath, () => pass(round), lockOptions);
    if (!run.ran)
      logger.warn("pass skipped: another cleanup of this CE is running", { round, error: run.held.message });
  };
}

/** Node's longest timer: a longer one fires at once (after a TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `--every`-style durations: `90s`, `10m`, `1h30m`, `2h`, `1d`, `500ms`
 * (a bare number is seconds). Returns undefined when not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNITS_MS[m[2]!]!;
  return total;
}
