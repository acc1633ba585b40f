import { describe, expect, it } from "vitest";
import type { JournalEntry } from "../../src/ops/journal.js";
import { buildTimelines, lifetimeStats, summarise } from "../../src/ops/report.js";
import { formatDuration, formatReportTable } from "../../src/ops/report-table.js";
import { NOW, sampleJournal } from "./report-fixture.js";

const e = (
  time: string,
  ref: string,
  action: JournalEntry["action"],
  reason: string,
  outcome: JournalEntry["outcome"] = "ok",
): JournalEntry => ({
  time: `2026-11-22T${time}:00.000Z`,
  ce: "ce1",
  queue: "q",
  ref,
  vmName: ref.replace("r", "vm"),
  stamp: ref,
  action,
  outcome,
  reason,
});

const SMALL: JournalEntry[] = [
  e("08:00", "r1", "create", "submit"),
  e("08:00", "r2", "create", "submit"),
  e("08:00", "r3", "create", "submit"),
  e("08:00", "r4", "create", "submit"),
  e("08:00", "r5", "create", "submit"),
  e("08:00", "", "create", "QuotaExceeded", "failed"),
  e("09:00", "r1", "delete", "stopped"),
  e("10:00", "r2", "delete", "expired"),
  e("09:30", "r3", "stop", "killed"),
  e("09:40", "r4", "delete", "error", "failed"),
];

describe("summarise", () => {
  const now = new Date("2026-11-22T12:00:00.000Z");

  it("classifies each VM from the journal and the live listing", () => {
    const vms = buildTimelines(SMALL, {
      now,
      live: [
        { ref: "r4", name: "vm4", state: "running", createdAt: new Date(0) },
        { ref: "old", name: "vm-old", state: "stopped", createdAt: new Date("2026-11-22T07:00:00.000Z") },
      ],
    });
    expect(Object.fromEntries(vms.map((v) => [v.ref, `${v.state}:${v.reason}`]))).toEqual({
      old: "done:stopped",
      r1: "done:stopped",
      r2: "aborted:expired",
      r3: "aborted:killed",
      r4: "running:running",
      r5: "unknown:not listed by the cloud",
    });
    expect(vms[0]!.ref).toBe("old"); // ordered by creation
  });

  it("counts submissions, outcomes, cleaned-by-reason, lifetimes and VM-hours", () => {
    const s = summarise(SMALL, { now });
    expect(s).toMatchObject({
      generatedAt: "2026-11-22T12:00:00.000Z",
      submitted: 5,
      submitFailures: 1,
      running: 0,
      done: 1,
      aborted: 2,
      unknown: 2,
      cleaned: { total: 2, byReason: { stopped: 1, expired: 1 } },
      deleteFailures: 1,
      lifetimeSeconds: { count: 2, min: 3600, median: 5400, p90: 6840, max: 7200 },
    });
    // r1 1h + r2 2h + r3, r4, r5 still counted up to now (4h each).
    expect(s.vmHours).toBe(15);
    expect(s.rows).toEqual([{ ce: "ce1", queue: "q", submitted: 5, running: 0, done: 1, aborted: 2, unknown: 2 }]);
  });

  it("handles an empty journal", () => {
    const s = summarise([], { now });
    expect(s).toMatchObject({ submitted: 0, lifetimeSeconds: undefined, vmHours: 0, rows: [] });
    expect(formatReportTable(s)).toContain("no VM has ended yet");
  });
});

describe("formatReportTable", () => {
  it("prints every figure with aligned columns and a per CE/queue table", () => {
    const { entries, live } = sampleJournal();
    const s = summarise(entries, { now: NOW, live });
    const text = formatReportTable(s);
    expect(s.submitted).toBe(54);
    expect(s.running + s.done + s.aborted + s.unknown).toBe(54);
    expect(text).toMatch(/^ {2}submitted +54 {2}\(1 failed submissions not counted\)$/m);
    expect(text).toMatch(new RegExp(`^ {2}running +${s.running}$`, "m"));
    expect(text).toMatch(/^ {4}stopped +\d+$/m);
    expect(text).toMatch(/^ {2}median +\d+(h|m)\d\d(m|s)$/m);
    expect(text).toContain("VM-hours");
    expect(text).toMatch(/^ {2}CE +queue +submitted +running +done +aborted +unknown$/m);
    expect(text).toMatch(/^ {2}os\.beta\.org +default +18 /m);
  });
});

describe("helpers", () => {
  it("formats durations with two units at most", () => {
    expect([42, 450, 7500, 273_600].map(formatDuration)).toEqual(["42s", "7m30s", "2h05m", "3d04h"]);
  });

  it("interpolates percentiles", () => {
    expect(lifetimeStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({
      count: 10,
      min: 1,
      median: 5.5,
      p90: 9.1,
      max: 10,
    });
    expect(lifetimeStats([5])).toEqual({ count: 1, min: 5, median: 5, p90: 5, max: 5 });
  });
});
