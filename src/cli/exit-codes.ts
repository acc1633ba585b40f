/**
 * The exit statuses every `cloudce` command follows, one table for all of
 * them (the README prints it; a test walks it). Scripts and cron jobs
 * branch on these, so they never depend on which command failed.
 */

import { EXIT_LOCK_HELD } from "../ops/cleanup-loop.js";

export interface ExitCodeRow {
  readonly codes: readonly number[];
  readonly name: string;
  readonly meaning: string;
}

const EXIT_SUCCESS = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Some of the work was done, some was not (a submit that made fewer VMs than asked, a cleanup pass where a delete failed). */
export const EXIT_PARTIAL = 3;
/** 128 + the signal's number, as shells report it. */
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

export const EXIT_CODES: readonly ExitCodeRow[] = [
  { codes: [EXIT_SUCCESS], name: "success", meaning: "everything asked for was done" },
  {
    codes: [EXIT_FAILED],
    name: "failure",
    meaning:
      "the operation failed (the cloud refused or could not be reached, the configuration is invalid); nothing, or nothing useful, was done",
  },
  {
    codes: [EXIT_USAGE],
    name: "usage",
    meaning:
      "the command line is wrong: unknown command or flag, a malformed or out-of-range value, " +
      "a file a flag names that is missing or of the wrong kind, a reference that is not a pilot reference, " +
      "a `--ce` or `--queue` the configuration does not define, or none where it defines several; " +
      "a global option `serve` would ignore",
  },
  {
    codes: [EXIT_PARTIAL],
    name: "partial",
    meaning:
      "part of the work was done: submit made fewer VMs than asked, kill or a cleanup pass could not delete some VMs; the output says how many and why",
  },
  {
    codes: [EXIT_LOCK_HELD],
    name: "lock held",
    meaning: "another cleanup of this CE holds its lock (a one-shot cleanup); try again later",
  },
  {
    codes: [EXIT_SIGINT, EXIT_SIGTERM],
    name: "interrupted",
    meaning:
      "SIGINT (130) or SIGTERM (143) stopped the command: it started nothing new, " +
      "waited for the calls in flight, and printed what it did, even when the cloud did not answer. " +
      "A `cleanup --every` loop and `serve`, which run until a signal, end their pass (or drain their requests) and exit 0",
  },
];

export { EXIT_LOCK_HELD };
