import { describe, expect, it } from "vitest";
import type { JournalEntry } from "../../src/ops/journal.js";
import { summarise } from "../../src/ops/report.js";
import { formatReportTable } from "../../src/ops/report-table.js";

const entry = (action: JournalEntry["action"], reason: string, ref = ""): JournalEntry => ({
  time: "2026-11-22T08:00:00.000Z",
  ce: "ce1",
  queue: "q",
  ref,
  vmName: "",
  stamp: "",
  action,
  outcome: "ok",
  reason,
});

const JOURNAL: JournalEntry[] = [
  entry("create", "submit: flavor m1.small", "r1"),
  entry("create", "submit: flavor m1.small", "r2"),
  entry("policy", "fizzle: stopped 12 s after it started (Fizzle_Seconds 300)", "r1"),
  entry("policy", "fizzle: stopped 9 s after it started (Fizzle_Seconds 300)", "r2"),
  entry("policy", "backoff: the last 2 VMs stopped within Fizzle_Seconds (300 s) of starting: …"),
  entry("policy", "boot-timeout: still booting after Instance_MaxBootSeconds (3600 s): removed", "r3"),
  entry("delete", "boot-timeout", "r3"),
  entry("policy", "fallback: 1 pilot from flavor m1.large to m1.small: No valid host"),
  entry("policy", "re-delete: still listed 300 s after it was deleted (stopped; …)", "r1"),
];

describe("cloudce report counts the policies' decisions", () => {
  it("counts fizzles, boot timeouts, fallbacks and re-deletes by name; decisions are not VMs", () => {
    const summary = summarise(JOURNAL, { now: new Date("2026-11-22T09:00:00.000Z") });
    expect(summary.policyDecisions).toEqual({ fizzle: 2, backoff: 1, "boot-timeout": 1, fallback: 1, "re-delete": 1 });
    expect(summary.submitted).toBe(2);
    expect(summary.cleaned.total).toBe(1);
    const table = formatReportTable(summary);
    expect(table).toContain("Policy decisions");
    expect(table).toMatch(/ {2}fizzle +2\n/);
    expect(table).toMatch(/ {2}re-delete +1\n/);
  });

  it("shows no section when no policy decided anything", () => {
    const summary = summarise(JOURNAL.filter((e) => e.action !== "policy"));
    expect(summary.policyDecisions).toEqual({});
    expect(formatReportTable(summary)).not.toContain("Policy decisions");
  });
});
