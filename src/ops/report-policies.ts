/**
 * Counts of the lifecycle policies' decisions in a journal: `policy` lines
 * whose reason starts with the decision's name (`fizzle: …`).
 */

import type { JournalEntry } from "./journal.js";

/** Decision name → how many times it was taken; empty when none were. */
export function countPolicyDecisions(entries: readonly JournalEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries) {
    if (e.action !== "policy") continue;
    const name = /^([\w-]+):/.exec(e.reason)?.[1] ?? "other";
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
