/** The pilot commands: submit, status, kill, cleanup, output. */

import type { CleanupReport, CloudComputingElement, PilotStatus } from "../ce/index.js";
import { expandEnv } from "../ce/ce-options.js";
import { CloudceError, toCloudceError } from "../errors.js";
import { readJournal } from "../ops/journal.js";
import { UsageError } from "./cli-errors.js";
import { formatTable, type Output } from "./output.js";
import { checkReadableFile, fileExists } from "./path-checks.js";
import { SHORT_ID_LENGTH, shortRef, statusSummary, statusTable } from "./status-table.js";
import { fitTable } from "./fit-table.js";
import { killFailures } from "../ce/kill.js";

/** Whether a command did all it was asked ("partial" exits 3, see exit-codes.ts). */
export type Outcome = "done" | "partial";

export async function submit(
  ce: CloudComputingElement,
  out: Output,
  executable: string,
  count: number,
  signal?: AbortSignal,
): Promise<{ refs: string[]; outcome: Outcome }> {
  out.ticker(`submitting ${count} pilot${count === 1 ? "" : "s"} to ${ce.ceName}…`);
  const { refs, stamps, interrupted, partial } = await ce.core.submitJob(
    executable,
    null,
    count,
    signal ? { signal } : {},
  );
  out.result(
    {
      refs,
      PilotStampDict: stamps,
      ...(interrupted ? { Interrupted: interrupted } : {}),
      ...(partial ? { Partial: partial } : {}),
    },
    () =>
      formatTable(
        ["REFERENCE", "STAMP"],
        refs.map((r) => [r, stamps[r] ?? ""]),
      ),
  );
  const note = interrupted ?? partial;
  if (note) out.warn(note);
  // An interrupted submission ends with the signal's status (see command-runner.ts), not "partial".
  return { refs, outcome: partial ? "partial" : "done" };
}

/** One CE object, or one per queue of the CE (the first answers for the whole CE). */
export type CeOrQueues = CloudComputingElement | readonly CloudComputingElement[];

function allOf(ces: CeOrQueues): readonly CloudComputingElement[] {
  return Array.isArray(ces) ? ces : [ces as CloudComputingElement];
}

/** The queue a CE object is for, as the CE options name it. */
function queueOf(ce: CloudComputingElement): string {
  const p = ce.getParameters();
  return p["Queue"] ?? p["QueueName"] ?? "default";
}

/**
 * Without REF: every VM of the CE, or of `onlyQueue` (`--queue`), and for
 * each queue its counts and slots; with REFs, their statuses.
 */
export async function status(
  ces: CeOrQueues,
  out: Output,
  given: readonly string[],
  wide = false,
  onlyQueue?: string,
  states?: readonly PilotStatus[],
): Promise<void> {
  const ce = allOf(ces)[0]!;
  if (given.length === 0) return statusAll(allOf(ces), out, wide, onlyQueue, states);
  const refs = await expandShortRefs(ce, given);
  const statuses = await ce.core.getJobStatus(refs);
  const gone = Object.keys(statuses).filter((r) => statuses[r] === "Deleted");
  const never = await neverCreated(ce, gone);
  const note = (ref: string): string => (statuses[ref] !== "Deleted" ? "" : explainGone(ref, never));
  out.result({ statuses, ...(never ? { neverCreated: gone.filter((r) => never.has(r)) } : {}) }, () =>
    gone.length === 0
      ? formatTable(["REFERENCE", "STATUS"], Object.entries(statuses))
      : formatTable(
          ["REFERENCE", "STATUS", "NOTE"],
          Object.entries(statuses).map(([r, s]) => [r, s, note(r)]),
        ),
  );
}

/** Every pilot VM of this CE (or queue), sorted, with a count for every status and the slots available() gives, per queue. */
async function statusAll(
  ces: readonly CloudComputingElement[],
  out: Output,
  wide: boolean,
  onlyQueue: string | undefined,
  states?: readonly PilotStatus[],
): Promise<void> {
  const listed = await ces[0]!.core.listPilots();
  const pilots = listed.filter(
    (p) => (onlyQueue === undefined || p.queue === onlyQueue) && (states === undefined || states.includes(p.status)),
  );
  // A queue whose slots cannot be read says why in its line; the listing above still stands.
  const slotsOf = (ce: CloudComputingElement) => ce.core.available().catch((err: unknown) => toCloudceError(err));
  const queues = await Promise.all(ces.map(async (ce) => ({ queue: queueOf(ce), available: await slotsOf(ce) })));
  const summaries = queues.map(({ queue, available }) => {
    const ok = !(available instanceof CloudceError);
    const info = ok ? available.info : undefined;
    const slots = ok ? available.slots : undefined;
    const slotsText = !ok
      ? `unknown (${available.message})`
      : info?.Reason
        ? `${available.slots} (${info.Reason})`
        : String(available.slots);
    const counts = ok
      ? {
          RunningJobs: available.counts.RunningJobs,
          WaitingJobs: available.counts.WaitingJobs,
          SubmittedJobs: available.counts.SubmittedJobs,
          CEInfoDict: available.info,
        }
      : {};
    const notes = [
      ...(info?.BackoffUntil ? [`fizzle backoff until ${info.BackoffUntil}`] : []),
      ...(info?.UnavailableOfferings ? [`unavailable offerings: ${info.UnavailableOfferings.join(", ")}`] : []),
    ];
    return { queue, slots, slotsText, counts, notes };
  });
  const first = summaries[0]!;
  const perQueue = summaries.map((q) => ({ queue: q.queue, slots: q.slots, ...q.counts }));
  // One queue: its slots and counts at the top, as ever; several: each queue's only.
  const json =
    summaries.length === 1
      ? { pilots, slots: first.slots, ...first.counts, queues: perQueue }
      : { pilots, queues: perQueue };
  const text = (): string => {
    const table = pilots.length === 0 ? "no pilot VMs" : statusTable(pilots, { wide, now: Date.now() });
    if (summaries.length === 1) return [table, "", statusSummary(pilots, first.slotsText), ...first.notes].join("\n");
    const lines = summaries.flatMap((q) => [
      `queue ${q.queue}: ${statusSummary(
        pilots.filter((p) => p.queue === q.queue),
        q.slotsText,
      ).replace("\n", "; ")}`,
      ...q.notes.map((n) => `  ${n}`),
    ]);
    return [table, "", statusSummary(pilots, "per queue, below").split("\n")[0]!, ...lines].join("\n");
  };
  out.result(json, text);
}

/**
 * Of refs the cloud does not list, those the journal never saw created;
 * undefined when the CE keeps no journal (then nobody can tell).
 */
async function neverCreated(ce: CloudComputingElement, refs: readonly string[]): Promise<Set<string> | undefined> {
  const journal = ce.getParameters()["Journal_File"]?.trim();
  if (refs.length === 0 || !journal) return undefined;
  // No journal file yet: this CE has created nothing since it started keeping one.
  if (!(await fileExists(expandEnv(journal)))) return new Set(refs);
  const { entries } = await readJournal(expandEnv(journal), { rotated: true });
  const created = new Set(entries.filter((e) => e.action === "create" && e.ce === ce.ceName).map((e) => e.ref));
  return new Set(refs.filter((r) => !created.has(r)));
}

function explainGone(ref: string, never: Set<string> | undefined): string {
  if (never === undefined) return "not on the cloud (deleted, or never created)";
  return never.has(ref) ? "this CE never created it" : "deleted";
}

/**
 * Kills the pilots; some deletes failing is a partial kill (exit 3), the
 * table says which and why; every one failing is a failure (exit 1).
 */
export async function kill(ce: CloudComputingElement, out: Output, given: readonly string[]): Promise<Outcome> {
  const report = await ce.core.killPilots(await expandShortRefs(ce, given));
  if (report.failed.length > 0 && report.killed.length === 0)
    throw new CloudceError("CloudError", killFailures(report));
  const never = await neverCreated(ce, report.gone);
  const result = (ref: string): string =>
    report.gone.includes(ref) ? `nothing to kill: ${explainGone(ref, never)}` : "killed";
  out.result(report, () =>
    formatTable(
      ["REFERENCE", "RESULT"],
      [...report.killed.map((r) => [r, result(r)]), ...report.failed.map((f) => [f.ref, `failed: ${f.error}`])],
    ),
  );
  if (report.failed.length === 0) return "done";
  out.warn(killFailures(report));
  return "partial";
}

/** The cleanup table gives up room from its result text first, then from VM names (their suffix stays). */
const CLEANUP_SHRINK = [
  { column: 3, min: 24 },
  { column: 1, min: 14 },
];

/** One cleanup pass of each queue's CE object in turn, each judged by its queue's options; one result. */
export async function cleanup(ces: CeOrQueues, out: Output, signal?: AbortSignal, dryRun = false): Promise<Outcome> {
  const queues: { queue: string; report: CleanupReport }[] = [];
  for (const ce of allOf(ces)) {
    if (signal?.aborted && queues.length > 0) break;
    const report = await ce.core.cleanupPilots({ ...(signal ? { signal } : {}), ...(dryRun ? { dryRun } : {}) });
    if (report.interrupted) out.progress(report.interrupted);
    queues.push({ queue: queueOf(ce), report });
  }
  // Short references, as status prints them (and kill takes back); --json has the full ones.
  const rowsOf = (report: CleanupReport): string[][] => [
    ...report.deleted.map((e) => [shortRef(e.ref), e.name, e.reason, "deleted"]),
    ...(report.wouldDelete ?? []).map((e) => [shortRef(e.ref), e.name, e.reason, "would delete (--dry-run)"]),
    ...(report.gone ?? []).map((e) => [shortRef(e.ref), e.name, e.reason, "already gone"]),
    ...report.failed.map((e) => [shortRef(e.ref), e.name, e.reason, `failed: ${e.error ?? ""}`]),
    ...(report.redeleted ?? []).map((e) => [
      shortRef(e.ref),
      e.name,
      e.reason,
      `still listed: deleted again (${e.attempts})${e.error ? `, failed: ${e.error}` : ""}`,
    ]),
  ];
  if (queues.length === 1) {
    const { report } = queues[0]!;
    const rows = rowsOf(report);
    out.result(report, () =>
      rows.length === 0
        ? "nothing to clean up"
        : fitTable(["REFERENCE", "VM", "REASON", "RESULT"], rows, CLEANUP_SHRINK),
    );
    return report.failed.length > 0 ? "partial" : "done";
  }
  const rows = queues.flatMap(({ queue, report }) => rowsOf(report).map((r) => [queue, ...r]));
  out.result({ queues: Object.fromEntries(queues.map((q) => [q.queue, q.report])) }, () =>
    rows.length === 0
      ? "nothing to clean up"
      : fitTable(
          ["QUEUE", "REFERENCE", "VM", "REASON", "RESULT"],
          rows,
          CLEANUP_SHRINK.map((c) => ({ ...c, column: c.column + 1 })).concat({ column: 0, min: 10 }),
        ),
  );
  return queues.some((q) => q.report.failed.length > 0) ? "partial" : "done";
}

export async function output(ce: CloudComputingElement, out: Output, given: string): Promise<void> {
  const [ref] = await expandShortRefs(ce, [given]);
  const stdout = await ce.core.getJobOutput(ref!);
  out.result({ ref, output: stdout }, () => stdout);
}

/** Guards the commands that need a pilot executable: given, and a readable regular file. */
export async function requireExecutable(path: string | undefined, command: string): Promise<string> {
  if (path === undefined)
    throw new UsageError(`give the pilot executable with --executable FILE (${command} needs it)`);
  await checkReadableFile(path, "--executable", "the pilot script");
  return path;
}

/**
 * `status` shows short references (`cloud://0266f8bc…`); they may be typed
 * back, with or without the `…`. A short one is matched against this CE's
 * VMs (one listing) and must name exactly one of them.
 */
export async function expandShortRefs(ce: CloudComputingElement, refs: readonly string[]): Promise<string[]> {
  // A bare id (`4fb1641f`, as status prints it after cloud://) names one of this CE's VMs.
  const bare = (r: string): boolean => !r.includes("://");
  const isShort = (r: string): boolean => bare(r) || r.endsWith("…") || r.length - 8 <= SHORT_ID_LENGTH;
  if (!refs.some(isShort)) return [...refs];
  const own = (await ce.core.listPilots()).map((p) => p.ref);
  return refs.map((r) => {
    if (!isShort(r)) return r;
    const prefix = `${bare(r) ? "cloud://" : ""}${r.replace(/…$/, "")}`;
    const matches = own.filter((o) => o.startsWith(prefix));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1)
      throw new UsageError(
        `${r} matches ${matches.length} pilot VMs (${matches.join(", ")}); give more of the reference, or see status --wide`,
      );
    if (bare(r))
      throw new CloudceError(
        "InvalidReference",
        `${r.slice(0, 80)} is neither a pilot reference (cloud://<id>) nor the id of one of this CE's VMs; see cloudce status`,
      );
    return prefix;
  });
}
