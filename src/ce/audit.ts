/**
 * The CE's side of the audit journal: what it records of each create and
 * delete. A journal that cannot be written is logged, never allowed to fail
 * the cloud operation it describes (the VM exists either way).
 */

import type { Logger } from "../log.js";
import { openJournal, type JournalInput, type JournalWriter } from "../ops/journal.js";
import type { CeSettings } from "./ce-options.js";
import type { CeObserver } from "./observer.js";

export type AuditEvent = Pick<JournalInput, "ref" | "vmName" | "action" | "outcome" | "reason"> & {
  readonly stamp?: string;
  /** The error code of a failure (for metrics; not journaled). */
  readonly code?: string;
};

export class Audit {
  private readonly journal: JournalWriter | undefined;

  constructor(
    private readonly settings: Pick<CeSettings, "ceName" | "queue" | "journalFile" | "journalMaxBytes">,
    private readonly log: Logger,
    /** The CE's clock: journal times agree with the ages the CE judges by. */
    private readonly now: () => number = Date.now,
    private readonly observer: CeObserver = {},
  ) {
    this.journal = settings.journalFile
      ? openJournal({ path: settings.journalFile, maxBytes: settings.journalMaxBytes })
      : undefined;
  }

  async record(events: readonly AuditEvent[]): Promise<void> {
    if (events.length > 0) this.observer.vms?.(events);
    if (!this.journal) return;
    for (const { code: _code, ...e } of events) {
      try {
        await this.journal.append({
          time: new Date(this.now()).toISOString(),
          ce: this.settings.ceName,
          queue: this.settings.queue,
          stamp: "",
          ...e,
        });
      } catch (err) {
        this.log.error("cannot write the audit journal", {
          file: this.journal.path,
          reason: err instanceof Error ? err.message : String(err),
        });
        return;
      }
    }
  }
}
