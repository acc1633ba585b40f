/**
 * Pilots whose VM was removed after it had stopped: they finished, so their
 * status is Done, not Deleted, when the site director asks after the
 * removal (a cleanup of the same queue in another thread, process or host
 * may come first). Known from this CE object's own cleanups and, where the
 * CE keeps a journal, from the deletes journaled by any process.
 */

import { readJournal, type JournalEntry } from "../ops/journal.js";
import { toCloudceError } from "../errors.js";
import type { Logger } from "../log.js";

/** Enough for every pilot a busy CE removes in a day; the oldest are forgotten first. */
const REMEMBERED = 20_000;

export class FinishedPilots {
  private readonly refs = new Set<string>();

  /** Notes pilots whose stopped VM was removed (or found gone by a delete). */
  removed(refs: Iterable<string>): void {
    for (const ref of refs) {
      this.refs.delete(ref);
      this.refs.add(ref);
    }
    for (const ref of this.refs) {
      if (this.refs.size <= REMEMBERED) break;
      this.refs.delete(ref);
    }
  }

  /**
   * Of `refs` (none of them listed by the cloud any more), those that
   * finished: removed by this object, or journaled as removed while stopped.
   */
  async finished(refs: readonly string[], journalFile: string | undefined, log: Logger): Promise<Set<string>> {
    const found = new Set(refs.filter((r) => this.refs.has(r)));
    const rest = refs.filter((r) => !found.has(r));
    if (rest.length === 0 || journalFile === undefined) return found;
    try {
      const { entries } = await readJournal(journalFile, { rotated: true });
      const wanted = new Set(rest);
      for (const e of entries) if (wanted.has(e.ref) && removedWhileStopped(e)) found.add(e.ref);
    } catch (err) {
      log.warn("cannot read the journal for finished pilots", { reason: toCloudceError(err).message });
    }
    return found;
  }
}

function removedWhileStopped(e: JournalEntry): boolean {
  return e.action === "delete" && (e.outcome === "ok" || e.outcome === "gone") && /^stopped\b/.test(e.reason);
}
