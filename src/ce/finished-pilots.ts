/**
 * What a pilot's VM no longer listed by the cloud means. A pilot whose VM
 * was removed after it had stopped finished: its status is Done, not
 * Deleted, when the site director asks after the removal (a cleanup of the
 * same queue in another thread, process or host may come first). Known from
 * this CE object's own cleanups (noted before the delete is sent) and, where
 * the CE keeps a journal, from the deletes journaled by any process.
 *
 * Another process journals its delete only once the cloud answered, so a VM
 * it is deleting can vanish from the listing before its journal line exists.
 * A VM this object saw listed at the previous ask that vanished without a
 * journal line therefore reads Unknown once (DIRAC asks again next cycle,
 * when the line is there), then Deleted.
 */

import { readJournal, type JournalEntry } from "../ops/journal.js";
import { toCloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import type { PilotStatus } from "./results.js";

/** Enough for every pilot a busy CE handles in a day; the oldest are forgotten first. */
const REMEMBERED = 20_000;

/** A set that forgets its oldest members past a bound. */
class BoundedSet {
  private readonly items = new Set<string>();
  add(item: string): void {
    this.items.delete(item);
    this.items.add(item);
    for (const old of this.items) {
      if (this.items.size <= REMEMBERED) break;
      this.items.delete(old);
    }
  }
  has(item: string): boolean {
    return this.items.has(item);
  }
  delete(item: string): void {
    this.items.delete(item);
  }
}

export class FinishedPilots {
  private readonly finished = new BoundedSet();
  /** Refs the last getJobStatus found listed. */
  private readonly seen = new BoundedSet();

  /** Notes pilots whose stopped VM is being removed (or was found gone by a delete). */
  removed(refs: Iterable<string>): void {
    for (const ref of refs) this.finished.add(ref);
  }

  /** Notes pilots a getJobStatus found listed. */
  listed(refs: Iterable<string>): void {
    for (const ref of refs) this.seen.add(ref);
  }

  /** The status of pilots whose VM the cloud no longer lists: Done, Deleted, or Unknown for one ask. */
  async unlisted(
    refs: readonly string[],
    journalFile: string | undefined,
    log: Logger,
  ): Promise<Record<string, PilotStatus>> {
    const out: Record<string, PilotStatus> = {};
    for (const r of refs) if (this.finished.has(r)) out[r] = "Done";
    const rest = refs.filter((r) => !this.finished.has(r));
    const journaled =
      journalFile === undefined || rest.length === 0 ? undefined : await this.journaledDeletes(rest, journalFile, log);
    for (const ref of rest) {
      const reason = journaled?.get(ref);
      const vanishing = journaled !== undefined && reason === undefined && this.seen.has(ref);
      out[ref] = reason !== undefined && /^stopped\b/.test(reason) ? "Done" : vanishing ? "Unknown" : "Deleted";
      this.seen.delete(ref);
      if (out[ref] === "Done") this.finished.add(ref);
    }
    return out;
  }

  /** Ref → reason of its journaled delete, for those of `refs` journaled; undefined when the journal cannot be read. */
  private async journaledDeletes(
    refs: readonly string[],
    journalFile: string,
    log: Logger,
  ): Promise<Map<string, string> | undefined> {
    try {
      const { entries } = await readJournal(journalFile, { rotated: true });
      const wanted = new Set(refs);
      const found = new Map<string, string>();
      // Any removal journaled as of a stopped VM says the pilot finished.
      for (const e of entries)
        if (wanted.has(e.ref) && removal(e) && (!found.has(e.ref) || /^stopped\b/.test(e.reason)))
          found.set(e.ref, e.reason);
      return found;
    } catch (err) {
      log.warn("cannot read the journal for removed pilots", { reason: toCloudceError(err).message });
      return undefined;
    }
  }
}

function removal(e: JournalEntry): boolean {
  return e.action === "delete" && (e.outcome === "ok" || e.outcome === "gone");
}
