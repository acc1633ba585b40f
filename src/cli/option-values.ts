/**
 * The values command-line options take, each checked against its bounds:
 * counts, seconds, ports, intervals, and `report`'s time window. A bad one
 * is a usage error naming what is accepted.
 */

import { InvalidArgumentError } from "commander";
import { MAX_PILOTS_PER_SUBMIT } from "../ce/cloud-computing-element.js";
import { parseWhen, type ReportWindow } from "../ops/report-window.js";
import { UsageError } from "./cli-errors.js";
import { WATCH_SECONDS } from "./commands-select.js";

/** `--number`: a whole number >= 1 (the parser's own usage error otherwise). */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`'${value}' is not a whole number >= 1.`);
  return Number(value);
}

/** `-n`: pilots for one submission, within what one submitJob creates. */
export function pilotCount(value: string): number {
  const n = wholeNumber(value);
  if (n > MAX_PILOTS_PER_SUBMIT)
    throw new InvalidArgumentError(
      `'${value}' is more than one submission creates (${MAX_PILOTS_PER_SUBMIT}); submit the rest in further runs.`,
    );
  return n;
}

/** `try --memory`: guest memory in MB, within what the QEMU driver boots (Driver_memory_mb's range). */
export function memoryMb(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 128 || n > 1_048_576)
    throw new InvalidArgumentError(`'${value.slice(0, 20)}' is not a whole number of MB from 128 to 1048576.`);
  return n;
}

/** `--timeout`: seconds, at most a day (a longer wait is a typo). */
export function timeoutSeconds(value: string): number {
  const n = wholeNumber(value);
  if (n > 86_400) throw new InvalidArgumentError(`'${value}' is more than a day (86400 s).`);
  return n;
}

/** A count of seconds >= 0 (a negative one would read as a flag, and a drain cannot be negative). */
export function seconds(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value))
      throw new InvalidArgumentError(`'${value}' is not a whole number of seconds >= 0 (${flag} 0 does not wait).`);
    return Number(value);
  };
}

export function watchSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < WATCH_SECONDS.min || n > WATCH_SECONDS.max) {
    throw new InvalidArgumentError(
      `'${value.slice(0, 20)}' is not a whole number of seconds from ${WATCH_SECONDS.min} to ${WATCH_SECONDS.max}.`,
    );
  }
  return n;
}

export function reportWindow(since: string | undefined, until: string | undefined): ReportWindow {
  const now = new Date();
  const when = (flag: string, text: string): Date => {
    const at = parseWhen(text, now);
    if (!at)
      throw new UsageError(
        `${flag}: '${text.slice(0, 40)}' is neither a date or time (2026-12-01, 2026-12-01T08:00Z) nor a time ago (24h, 7d)`,
      );
    return at;
  };
  const window = {
    ...(since ? { since: when("--since", since) } : {}),
    ...(until ? { until: when("--until", until) } : {}),
  };
  if (window.since && window.until && window.since > window.until)
    throw new UsageError(`--since ${since} is after --until ${until}`);
  return window;
}

export function wholePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535)
    throw new InvalidArgumentError(`'${value}' is not a port (1-65535).`);
  return n;
}
