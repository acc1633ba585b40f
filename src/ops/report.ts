/**
 * Pilot reports from the audit journal and, optionally, the live cloud.
 *
 * Each VM (by pilot reference) gets one timeline: created at its successful
 * `create`, ended at its successful `delete`. Its final state:
 * - `done`: deleted by cleanup because it had stopped (the pilot halted it),
 *   or still listed as stopped;
 * - `aborted`: deleted for any other reason (error, expired, killed), stopped
 *   by us, or listed in error;
 * - `running`: not deleted and listed as booting, running or stopping;
 * - `unknown`: not deleted, and not listed (or no live listing was given).
 */

import type { JournalEntry } from "./journal.js";
import { countPolicyDecisions } from "./report-policies.js";
import { definedProps } from "../util/defined.js";

export const VM_FINAL_STATES = ["running", "done", "aborted", "unknown"] as const;
export type VmFinalState = (typeof VM_FINAL_STATES)[number];

/** A VM as the cloud lists it now (a subset of the driver's CloudNode). */
export interface LiveNode {
  readonly ref: string;
  readonly name: string;
  /** Driver state: booting, running, stopping, stopped, error, gone, unknown. */
  readonly state: string;
  readonly createdAt: Date;
  /** When a stopped VM powered off, where the cloud says. */
  readonly stoppedAt?: Date;
}

/** One VM's life, for reports and the timeline plot. */
export interface VmTimeline {
  readonly ref: string;
  readonly name: string;
  readonly ce: string;
  readonly queue: string;
  readonly start: Date;
  /** When it was deleted; undefined while it exists (or its fate is unknown). */
  readonly end: Date | undefined;
  /** When it powered off, for a VM still there (waiting for cleanup), where the cloud says. */
  readonly stoppedAt?: Date;
  readonly state: VmFinalState;
  /** The delete/stop reason, or the live state. */
  readonly reason: string;
}

/** Lifetime statistics in seconds over VMs that ended. */
export interface LifetimeStats {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

/** Counts for one CE/queue. */
export interface ReportRow {
  readonly ce: string;
  readonly queue: string;
  readonly submitted: number;
  readonly running: number;
  readonly done: number;
  readonly aborted: number;
  readonly unknown: number;
}

/** What `cloudce report` prints (and `--json` emits as is). */
export interface ReportSummary {
  readonly generatedAt: string;
  /** Successful creates. */
  readonly submitted: number;
  readonly submitFailures: number;
  readonly running: number;
  readonly done: number;
  readonly aborted: number;
  readonly unknown: number;
  /** Successful deletes, by reason. */
  readonly cleaned: { readonly total: number; readonly byReason: Record<string, number> };
  readonly deleteFailures: number;
  /** Undefined when no VM has ended yet. */
  readonly lifetimeSeconds: LifetimeStats | undefined;
  /** Sum of VM lifetimes (ongoing ones up to now), in hours. */
  readonly vmHours: number;
  readonly rows: ReportRow[];
  /** Lifecycle policy decisions by name (fizzle, boot-timeout, fallback, re-delete, …). */
  readonly policyDecisions: Record<string, number>;
}

export interface ReportOptions {
  readonly live?: readonly LiveNode[];
  /** The time the report is as of (default: now); a VM that powered off later was running then. */
  readonly now?: Date;
}

interface Building {
  ref: string;
  name: string;
  ce: string;
  queue: string;
  start: Date;
  end: Date | undefined;
  endReason: string;
  stoppedBy: string | undefined;
}

/** One timeline per VM, ordered by creation time. */
export function buildTimelines(entries: readonly JournalEntry[], options: ReportOptions = {}): VmTimeline[] {
  const vms = new Map<string, Building>();
  for (const e of entries) {
    if (e.outcome !== "ok") continue;
    let vm = vms.get(e.ref);
    if (e.action === "create") {
      vm ??= {
        ref: e.ref,
        name: e.vmName,
        ce: e.ce,
        queue: e.queue,
        start: new Date(e.time),
        end: undefined,
        endReason: "",
        stoppedBy: undefined,
      };
      vms.set(e.ref, vm);
    } else if (vm && e.action === "delete") {
      vm.end = new Date(e.time);
      vm.endReason = e.reason;
    } else if (vm && e.action === "stop") {
      vm.stoppedBy = e.reason || "stopped";
    }
  }
  const live = new Map((options.live ?? []).map((n) => [n.ref, n]));
  const asOf = options.now ?? new Date();
  const out: VmTimeline[] = [...vms.values()].map((vm) =>
    finalise(vm, live.get(vm.ref), options.live !== undefined, asOf),
  );
  // VMs the journal never saw created (older than the journal): known from the cloud only.
  for (const n of live.values()) {
    if (vms.has(n.ref)) continue;
    const vm: Building = {
      ref: n.ref,
      name: n.name,
      ce: "",
      queue: "",
      start: n.createdAt,
      end: undefined,
      endReason: "",
      stoppedBy: undefined,
    };
    out.push(finalise(vm, n, true, asOf));
  }
  return out.sort((a, b) => a.start.getTime() - b.start.getTime());
}

function finalise(vm: Building, node: LiveNode | undefined, haveLive: boolean, asOf: Date): VmTimeline {
  const base = { ref: vm.ref, name: vm.name, ce: vm.ce, queue: vm.queue, start: vm.start, end: vm.end };
  if (vm.end)
    return { ...base, state: vm.endReason === "stopped" ? "done" : "aborted", reason: vm.endReason || "deleted" };
  if (vm.stoppedBy) return { ...base, state: "aborted", reason: vm.stoppedBy };
  if (!node) return { ...base, state: "unknown", reason: haveLive ? "not listed by the cloud" : "no live listing" };
  // Powered off after the report's time (report --until in the past): running as of then.
  if (node.stoppedAt && node.stoppedAt.getTime() > asOf.getTime())
    return { ...base, state: "running", reason: "running" };
  return {
    ...base,
    state: liveState(node.state),
    reason: node.state,
    ...definedProps({ stoppedAt: node.stoppedAt }),
  };
}

function liveState(state: string): VmFinalState {
  if (state === "booting" || state === "running" || state === "suspended" || state === "stopping") return "running";
  if (state === "stopped") return "done";
  if (state === "error") return "aborted";
  return "unknown";
}

/** The summary `cloudce report` shows. */
export function summarise(entries: readonly JournalEntry[], options: ReportOptions = {}): ReportSummary {
  const now = options.now ?? new Date();
  const vms = buildTimelines(entries, options);
  const count = (s: VmFinalState): number => vms.filter((v) => v.state === s).length;
  const byReason: Record<string, number> = {};
  let deletes = 0;
  for (const e of entries) {
    if (e.action !== "delete" || e.outcome !== "ok") continue;
    deletes++;
    const reason = e.reason || "unspecified";
    byReason[reason] = (byReason[reason] ?? 0) + 1;
  }
  const ended = vms.filter((v) => v.end).map((v) => (v.end!.getTime() - v.start.getTime()) / 1000);
  const totalMs = vms.reduce((sum, v) => sum + Math.max(0, (v.end ?? now).getTime() - v.start.getTime()), 0);
  const failures = (action: JournalEntry["action"]): number =>
    entries.filter((e) => e.action === action && e.outcome === "failed").length;
  return {
    generatedAt: now.toISOString(),
    submitted: entries.filter((e) => e.action === "create" && e.outcome === "ok").length,
    submitFailures: failures("create"),
    running: count("running"),
    done: count("done"),
    aborted: count("aborted"),
    unknown: count("unknown"),
    cleaned: { total: deletes, byReason },
    deleteFailures: failures("delete"),
    lifetimeSeconds: lifetimeStats(ended),
    vmHours: Math.round((totalMs / 3_600_000) * 100) / 100,
    rows: rowsOf(vms),
    policyDecisions: countPolicyDecisions(entries),
  };
}

function rowsOf(vms: readonly VmTimeline[]): ReportRow[] {
  const rows = new Map<string, { ce: string; queue: string; submitted: number } & Record<VmFinalState, number>>();
  for (const v of vms) {
    const key = `${v.ce}\u0000${v.queue}`;
    const row = rows.get(key) ?? {
      ce: v.ce,
      queue: v.queue,
      submitted: 0,
      running: 0,
      done: 0,
      aborted: 0,
      unknown: 0,
    };
    if (v.ce !== "") row.submitted++;
    row[v.state]++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.ce.localeCompare(b.ce) || a.queue.localeCompare(b.queue));
}

/** Min, median, 90th percentile (linear interpolation) and max; undefined if empty. */
export function lifetimeStats(seconds: readonly number[]): LifetimeStats | undefined {
  if (seconds.length === 0) return undefined;
  const s = [...seconds].sort((a, b) => a - b);
  const q = (p: number): number => {
    const pos = (s.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { count: s.length, min: s[0]!, median: q(0.5), p90: q(0.9), max: s[s.length - 1]! };
}
