/** `cloudce status`: this CE's VMs in a table that fits 80 columns, sorted by state then age, and a summary. */

import type { PilotInfo, PilotStatus } from "../ce/index.js";
import { fitTable } from "./fit-table.js";
import { formatTable } from "./output.js";

/** The order states are shown in: what needs attention (live VMs) first. */
const STATE_ORDER: readonly PilotStatus[] = [
  "Running",
  "Waiting",
  "Submitted",
  "Done",
  "Failed",
  "Aborted",
  "Deleted",
  "Unknown",
];

/** The statuses a listing of this CE's VMs can give; the summary counts each, zeros included. */
const LISTED_STATUSES: readonly PilotStatus[] = ["Waiting", "Running", "Done", "Aborted", "Deleted", "Unknown"];

export const SHORT_ID_LENGTH = 8;

/** `cloud://<first 8 characters>…`: enough to tell VMs apart; `--wide` shows the full reference. */
export function shortRef(ref: string): string {
  const id = ref.startsWith("cloud://") ? ref.slice(8) : ref;
  return id.length <= SHORT_ID_LENGTH + 1 ? ref : `cloud://${id.slice(0, SHORT_ID_LENGTH)}…`;
}

export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

function sortPilots(pilots: readonly PilotInfo[]): PilotInfo[] {
  const rank = (s: PilotStatus): number => STATE_ORDER.indexOf(s);
  return [...pilots].sort(
    (a, b) => rank(a.status) - rank(b.status) || Date.parse(a.createdAt) - Date.parse(b.createdAt),
  );
}

/** 80 columns by default: short references, names clipped in the middle; `--wide` adds the cloud's own state. */
export function statusTable(pilots: readonly PilotInfo[], opts: { wide: boolean; now: number }): string {
  const sorted = sortPilots(pilots);
  const ageOf = (p: PilotInfo): string => age(opts.now - Date.parse(p.createdAt));
  if (opts.wide) {
    return formatTable(
      ["REFERENCE", "VM", "STATUS", "CLOUD STATE", "AGE", "QUEUE", "FLAVOR"],
      sorted.map((p) => [p.ref, p.name, p.status, p.cloudState, ageOf(p), p.queue, p.flavor]),
    );
  }
  // Names shrink first (their unique suffix stays), then flavors, and queues last.
  return fitTable(
    ["REFERENCE", "VM", "STATUS", "AGE", "QUEUE", "FLAVOR"],
    sorted.map((p) => [shortRef(p.ref), p.name, p.status, ageOf(p), p.queue, p.flavor]),
    [
      { column: 1, min: 14 },
      { column: 5, min: 8 },
      { column: 4, min: 10 },
      { column: 1, min: 12 },
    ],
  );
}

/** `48 pilot VMs: 0 Waiting, 3 Running, 45 Done, …` and the slots available() gives. */
export function statusSummary(pilots: readonly PilotInfo[], slots: number | string): string {
  const counts = LISTED_STATUSES.map((s) => `${pilots.filter((p) => p.status === s).length} ${s}`);
  const head = `${pilots.length} pilot VM${pilots.length === 1 ? "" : "s"}: ${counts.join(", ")}`;
  return `${head}\nslots available: ${slots}`;
}
