/**
 * Time for measuring durations: milliseconds that only move forward, whatever
 * happens to the system clock (NTP steps, an operator's `date -s`). `Date.now()`
 * is for timestamps only: a backward step would stretch any wait measured on
 * it by the size of the step.
 */
export const monotonicNow = (): number => performance.now();
