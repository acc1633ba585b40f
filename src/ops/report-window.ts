/** `report --since/--until`: the pilots whose VM lived at some time in a window, and the window's bounds as given. */

import { parseDuration } from "./cleanup-loop.js";
import type { JournalEntry } from "./journal.js";
import type { LiveNode } from "./report.js";

export interface ReportWindow {
  readonly since?: Date;
  readonly until?: Date;
}

/**
 * A bound: an ISO date or time (`2026-12-01`, `2026-12-01T08:00Z`), or a
 * duration before `now` (`24h`, `7d`); undefined when it is neither.
 */
export function parseWhen(text: string, now: Date): Date | undefined {
  const ago = parseDuration(text);
  if (ago !== undefined && /[a-z]$/.test(text.trim())) return new Date(now.getTime() - ago);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const at = Date.parse(text.trim());
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** Journal entries of the VMs that lived in the window (created before its end, not deleted before its start). */
export function entriesInWindow(entries: readonly JournalEntry[], window: ReportWindow): JournalEntry[] {
  if (!window.since && !window.until) return [...entries];
  const span = new Map<string, { start: number; end: number }>();
  for (const e of entries) {
    const t = Date.parse(e.time);
    const s = span.get(e.ref) ?? { start: Number.POSITIVE_INFINITY, end: Number.POSITIVE_INFINITY };
    if (e.action === "create" && e.outcome === "ok") s.start = Math.min(s.start, t);
    if (e.action === "delete" && e.outcome === "ok") s.end = Math.min(s.end, t);
    span.set(e.ref, s);
  }
  const lived = (ref: string): boolean => {
    const s = span.get(ref)!;
    return (!window.until || s.start <= window.until.getTime()) && (!window.since || s.end >= window.since.getTime());
  };
  return entries.filter((e) => lived(e.ref) && (!window.until || Date.parse(e.time) <= window.until.getTime()));
}

/** Live VMs created before the window's end. */
export function liveInWindow(live: readonly LiveNode[], window: ReportWindow): LiveNode[] {
  return live.filter((n) => !window.until || n.createdAt.getTime() <= window.until.getTime());
}
