/**
 * Choosing pilots by what they are rather than by reference: `status --state`,
 * `kill --all` / `--state` (with `--queue`), a confirmation before a bulk kill
 * and `--dry-run`; `output --follow`.
 */

import { createInterface } from "node:readline/promises";
import type { CloudComputingElement, PilotInfo, PilotStatus } from "../ce/index.js";
import { UsageError } from "./cli-errors.js";
import { expandShortRefs, kill, type Outcome } from "./commands-pilots.js";
import { formatTable, type Output } from "./output.js";
import { shortRef } from "./status-table.js";
import { pause } from "../util/pause.js";

/** The states `--state` takes: DIRAC's pilot statuses a listing gives. */
export const STATES: readonly PilotStatus[] = ["Waiting", "Running", "Done", "Aborted", "Unknown"];

/** `--state running,done` (any case) as DIRAC statuses; a usage error names the ones it takes. */
export function parseStates(text: string): PilotStatus[] {
  return text.split(",").map((word) => {
    const found = STATES.find((s) => s.toLowerCase() === word.trim().toLowerCase());
    if (!found)
      throw new UsageError(
        `--state: '${word.trim().slice(0, 40)}' is not a pilot state; use ${STATES.join(", ")} (comma-separated)`,
      );
    return found;
  });
}

export interface Selection {
  readonly all?: boolean;
  readonly states?: readonly PilotStatus[];
  readonly queue?: string;
}

/** This CE's pilots that match: every one with `all`, else those in `states`; only `queue`'s when given. */
export function selectPilots(pilots: readonly PilotInfo[], sel: Selection): PilotInfo[] {
  return pilots.filter(
    (p) =>
      (sel.queue === undefined || p.queue === sel.queue) && (sel.states === undefined || sel.states.includes(p.status)),
  );
}

export interface KillOptions extends Selection {
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  /** Asks the operator (a terminal); undefined where nobody can answer. */
  readonly ask?: (question: string) => Promise<boolean>;
}

/**
 * `kill REF…`, or `kill --all` / `--state S` (of `--queue`'s pilots): a bulk
 * kill asks first, or needs `--yes` where nobody can answer; `--dry-run`
 * lists what would be killed and kills nothing.
 */
export async function killSelected(
  ce: CloudComputingElement,
  out: Output,
  refs: readonly string[],
  opts: KillOptions,
): Promise<Outcome> {
  const bulk = opts.all === true || opts.states !== undefined;
  if (bulk && refs.length > 0) throw new UsageError("give references or --all/--state, not both");
  if (!bulk && refs.length === 0)
    throw new UsageError(
      "give the pilots to kill: references (cloud://<id> or the short id status prints), --all or --state STATE",
    );
  const chosen = bulk
    ? selectPilots(await ce.core.listPilots(), opts).map((p) => p.ref)
    : await expandShortRefs(ce, refs);
  if (opts.dryRun) {
    out.result({ wouldKill: chosen }, () =>
      chosen.length === 0
        ? "nothing to kill"
        : formatTable(
            ["REFERENCE", "RESULT"],
            chosen.map((r) => [r, "would kill (--dry-run)"]),
          ),
    );
    return "done";
  }
  if (chosen.length === 0) {
    out.result({ killed: [], gone: [], failed: [] }, () => "nothing to kill");
    return "done";
  }
  if (bulk && !opts.yes) await confirmBulk(chosen, opts.ask);
  return kill(ce, out, chosen);
}

async function confirmBulk(refs: readonly string[], ask: KillOptions["ask"]): Promise<void> {
  const what = `${refs.length} pilot VM${refs.length === 1 ? "" : "s"}`;
  if (!ask) throw new UsageError(`this would kill ${what}: add --yes to confirm (or --dry-run to list them first)`);
  const sample = refs.slice(0, 3).map(shortRef).join(", ");
  if (!(await ask(`kill ${what} (${sample}${refs.length > 3 ? ", …" : ""})? [y/N] `)))
    throw new UsageError(`not confirmed: nothing was killed`);
}

/** Asks on the terminal, when stdin and stderr are one; else undefined (the caller then needs --yes). */
export function terminalQuestion(stderr: NodeJS.WritableStream): KillOptions["ask"] {
  if (!process.stdin.isTTY || (stderr as NodeJS.WriteStream).isTTY !== true) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
}

/** The statuses after which a VM's console says nothing new. */
const FINISHED: readonly PilotStatus[] = ["Done", "Aborted", "Deleted"];

/**
 * `output --follow`: prints the console, then what is added to it every
 * `everyMs`, until the pilot has finished (or the signal aborts).
 */
export async function followOutput(
  ce: CloudComputingElement,
  out: Output,
  given: string,
  opts: { everyMs: number; signal?: AbortSignal; write: (text: string) => void },
): Promise<void> {
  const [ref] = await expandShortRefs(ce, [given]);
  let shown = "";
  for (;;) {
    const text = await ce.core.getJobOutput(ref!);
    // A console that was cut at its start (rotated) is shown again from where it now starts.
    const fresh = text.startsWith(shown) ? text.slice(shown.length) : text;
    if (fresh) opts.write(fresh);
    shown = text;
    const status = (await ce.core.getJobStatus([ref!]))[ref!];
    if (status === undefined || FINISHED.includes(status) || opts.signal?.aborted) break;
    await pause(opts.everyMs, opts.signal);
    if (opts.signal?.aborted) break;
  }
  if (out.json) out.result({ ref, output: shown });
}

/** `status --watch`: bounds of its interval in seconds (a shorter one only burns cloud calls). */
export const WATCH_SECONDS = { min: 1, max: 3600, default: 5 } as const;

/**
 * `status --watch`: the status again every `everySeconds` until a stop signal.
 * On a terminal the screen is redrawn; otherwise each table follows a line
 * with its time, and under --json each is one line with its `time`.
 */
export async function watch(
  show: (out: Output) => Promise<void>,
  out: Output,
  opts: { everySeconds: number; signal?: AbortSignal; stdout: NodeJS.WritableStream },
): Promise<void> {
  const tty = (opts.stdout as NodeJS.WriteStream).isTTY === true;
  const lines = out.timed();
  while (!opts.signal?.aborted) {
    if (!out.json) opts.stdout.write(tty ? "\x1b[H\x1b[2J" : `--- ${new Date().toISOString()}\n`);
    await show(lines);
    await pause(opts.everySeconds * 1000, opts.signal);
  }
}
