/**
 * The audit journal: every create, stop and delete of a pilot VM, and every
 * decision of a lifecycle policy, as one JSON line. Each line is a single
 * `write` on a file opened for append, followed by fsync, so a crash can at
 * worst tear the line being written, never an earlier one. The file is opened
 * per append (appends are rare) so that a rotation by another process is
 * picked up at once.
 */

import { type FileHandle, open, readFile, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { CloudceError } from "../errors.js";
import { scrubSecrets } from "../secrets.js";
import { tryAcquireLock } from "../util/lock.js";

/** `policy`: a decision of a lifecycle policy; its reason starts with the decision's name (`fizzle: …`). */
const JOURNAL_ACTIONS = ["create", "stop", "delete", "policy"] as const;
export type JournalAction = (typeof JOURNAL_ACTIONS)[number];
/** `gone`: a delete that found the VM already gone (another cleanup or the cloud removed it first). */
const JOURNAL_OUTCOMES = ["ok", "failed", "gone"] as const;
export type JournalOutcome = (typeof JOURNAL_OUTCOMES)[number];

/** One journal line. */
export interface JournalEntry {
  /** ISO time of the action. */
  readonly time: string;
  readonly ce: string;
  readonly queue: string;
  /** Pilot reference (`cloud://…`). */
  readonly ref: string;
  readonly vmName: string;
  /** Pilot stamp. */
  readonly stamp: string;
  readonly action: JournalAction;
  readonly outcome: JournalOutcome;
  /** Why (e.g. `stopped`, `max-lifetime`, `submit`), or the error; empty if none. */
  readonly reason: string;
}

/** An entry to append; `time` defaults to now. */
export type JournalInput = Omit<JournalEntry, "time"> & { readonly time?: string };

export interface JournalOptions {
  readonly path: string;
  /** Rotate before the file would grow beyond this (bytes; default 10 MiB). */
  readonly maxBytes?: number;
  /** Rotated files kept: `<path>.1` (newest) … `<path>.<keep>` (default 5). */
  readonly keep?: number;
}

/** Appends entries to a journal file. */
export interface JournalWriter {
  readonly path: string;
  /** Appends one line durably (returns after fsync). */
  append(entry: JournalInput): Promise<void>;
}

const DEFAULT_JOURNAL_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_JOURNAL_KEEP = 5;

/** A journal writer; appends from one process are serialised in call order. */
export function openJournal(options: JournalOptions): JournalWriter {
  const maxBytes = options.maxBytes ?? DEFAULT_JOURNAL_MAX_BYTES;
  const keep = Math.max(1, options.keep ?? DEFAULT_JOURNAL_KEEP);
  let queue: Promise<void> = Promise.resolve();
  const appendNow = async (entry: JournalInput): Promise<void> => {
    const line = `${JSON.stringify(normalise(entry))}\n`;
    const size = await stat(options.path).then(
      (s) => s.size,
      () => 0,
    );
    if (size > 0 && size + Buffer.byteLength(line) > maxBytes) await rotate(options.path, maxBytes, keep);
    await appendLine(options.path, line);
  };
  return {
    path: options.path,
    append: (entry) => {
      const next = queue.then(() => appendNow(entry));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

function normalise(e: JournalInput): JournalEntry {
  if (!JOURNAL_ACTIONS.includes(e.action))
    throw new CloudceError("Internal", `journal: unknown action '${String(e.action)}'`);
  if (!JOURNAL_OUTCOMES.includes(e.outcome))
    throw new CloudceError("Internal", `journal: unknown outcome '${String(e.outcome)}'`);
  // Fixed key order keeps lines easy to read and to grep.
  return {
    time: e.time ?? new Date().toISOString(),
    ce: e.ce,
    queue: e.queue,
    ref: e.ref,
    vmName: e.vmName,
    stamp: e.stamp,
    action: e.action,
    outcome: e.outcome,
    // A cloud error used as a reason may echo a request: scrub it.
    reason: scrubSecrets(e.reason),
  };
}

async function appendLine(path: string, line: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, "a+", 0o640);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new CloudceError(
      "Internal",
      `${path}: cannot open the journal (${code}); check the directory exists and is writable`,
      { cause: err },
    );
  }
  try {
    // After a crash the file may end in a torn line: start ours on a fresh line.
    const { size } = await handle.stat();
    const lastByte = Buffer.alloc(1);
    if (size > 0) await handle.read(lastByte, 0, 1, size - 1);
    const text = size > 0 && lastByte[0] !== 0x0a ? `\n${line}` : line;
    // One write call for the whole line: appends from several processes never interleave within a line.
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Shifts `<path>.N-1` → `<path>.N` … and `<path>` → `<path>.1`. A short lock
 * keeps two processes from rotating at once (which would lose a file); the
 * loser just appends to the current file.
 */
async function rotate(path: string, maxBytes: number, keep: number): Promise<void> {
  const lock = await tryAcquireLock(`${path}.rotate.lock`);
  if (!lock) return;
  try {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size < maxBytes / 2) return; // someone rotated between our stat and the lock
    for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(ignoreMissing);
    await rename(path, `${path}.1`);
    await syncDir(dirname(path));
  } finally {
    await lock.release();
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the renames durable; not every platform can fsync a directory.
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
}

/** A line the reader could not use. */
export interface JournalProblem {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
}

export interface JournalContents {
  /** Entries in file order, oldest file first. */
  readonly entries: JournalEntry[];
  /** Unusable lines in the middle of a file (a torn last line is not listed). */
  readonly problems: JournalProblem[];
  /** True when a file ended in a torn line (a crash mid-write); it was skipped. */
  readonly torn: boolean;
}

/**
 * Reads a journal, by default with its rotated files (oldest first). A torn
 * last line is skipped; other bad lines are reported, never fatal.
 */
export async function readJournal(
  path: string,
  options: { rotated?: boolean; keep?: number } = {},
): Promise<JournalContents> {
  const files: string[] = [];
  if (options.rotated ?? true) {
    for (let i = options.keep ?? DEFAULT_JOURNAL_KEEP; i >= 1; i--) files.push(`${path}.${i}`);
  }
  files.push(path);
  const result = { entries: [] as JournalEntry[], problems: [] as JournalProblem[], torn: false };
  for (const file of files) {
    const text = await readFile(file, "utf8").catch((err: unknown) => {
      ignoreMissing(err);
      return "";
    });
    parseJournalText(text, file, result);
  }
  return result;
}

/** Parses journal text into `into`. */
function parseJournalText(
  text: string,
  file: string,
  into: { entries: JournalEntry[]; problems: JournalProblem[]; torn: boolean },
): void {
  const lines = text.split("\n");
  const last = lines.length - 1; // the piece after the final "\n": empty unless torn
  lines.forEach((raw, i) => {
    if (raw.trim() === "") return;
    const entry = parseEntry(raw);
    if (entry) into.entries.push(entry);
    else if (i === last) into.torn = true;
    else into.problems.push({ file, line: i + 1, problem: "not a journal entry (bad JSON or missing fields)" });
  });
}

function parseEntry(raw: string): JournalEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const strings = ["time", "ce", "queue", "ref", "vmName", "stamp", "reason"] as const;
  if (!strings.every((k) => typeof o[k] === "string")) return undefined;
  if (
    !JOURNAL_ACTIONS.includes(o["action"] as JournalAction) ||
    !JOURNAL_OUTCOMES.includes(o["outcome"] as JournalOutcome)
  )
    return undefined;
  return o as unknown as JournalEntry;
}
