/**
 * Prometheus metrics of the CE, with prom-client. Every metric carries the
 * CE name and queue as labels. The library keeps them in one registry,
 * {@link metricsRegistry}, that an embedding site director can serve or
 * merge into its own; a CE can be given another registry, or none.
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AuditEvent } from "../ce/audit.js";
import type { CeObserver } from "../ce/observer.js";
import { pilotStatus } from "../ce/status-map.js";
import { OWNER_KEY, QUEUE_KEY } from "../ce/ownership.js";
import type { PilotStatus } from "../ce/results.js";

/** The library's registry: every CE in this process reports here unless told otherwise. */
export const metricsRegistry = new Registry();

const STATUSES: readonly PilotStatus[] = ["Waiting", "Running", "Done", "Aborted", "Deleted", "Unknown"];

/** Every metric, its help text and labels: the single list the docs describe. */
export const METRICS = {
  vmsCreated: { name: "cloudce_vms_created_total", help: "Pilot VMs created.", labels: ["ce", "queue", "reason"] },
  vmsDeleted: { name: "cloudce_vms_deleted_total", help: "Pilot VMs deleted, by why (stopped, error, expired, boot-timeout, killed).", labels: ["ce", "queue", "reason"] },
  vmsFailed: {
    name: "cloudce_vms_failed_total",
    help: "Pilot VM creations and deletions that failed, by action, reason and error code.",
    labels: ["ce", "queue", "action", "reason", "code"],
  },
  cloudCalls: { name: "cloudce_cloud_calls_total", help: "Cloud calls made through the driver, by outcome and error code.", labels: ["ce", "queue", "driver", "operation", "outcome", "code"] },
  throttled: { name: "cloudce_cloud_throttled_total", help: "Throttled cloud answers (HTTP 429, RequestLimitExceeded), retried or not.", labels: ["ce", "queue", "driver", "operation"] },
  lookupsFailed: {
    name: "cloudce_cloud_lookups_failed_total",
    help: "Secondary look-ups a driver could not make (lookup: preemptions on GCE), so what it reported was less precise.",
    labels: ["ce", "queue", "driver", "lookup"],
  },
  callSeconds: { name: "cloudce_cloud_call_duration_seconds", help: "Latency of cloud calls, retries included.", labels: ["ce", "queue", "driver", "operation"] },
  vms: { name: "cloudce_vms", help: "The queue's VMs at the last listing, by DIRAC pilot status.", labels: ["ce", "queue", "status"] },
  slots: { name: "cloudce_slots_available", help: "Slots available() offered at its last call.", labels: ["ce", "queue"] },
  concurrency: {
    name: "cloudce_cloud_concurrency_limit",
    help: "Calls that cannot be batched (deletes, per-VM creates, look-ups) the CE lets the cloud endpoint have at once, as learnt from its latency.",
    labels: ["ce", "queue", "driver", "endpoint"],
  },
} as const;

interface Instruments {
  vmsCreated: Counter;
  vmsDeleted: Counter;
  vmsFailed: Counter;
  cloudCalls: Counter;
  throttled: Counter;
  lookupsFailed: Counter;
  callSeconds: Histogram;
  vms: Gauge;
  slots: Gauge;
  concurrency: Gauge;
}

const instruments = new WeakMap<Registry, Instruments>();

/** The metrics in a registry, created there on first use (prom-client refuses a name twice). */
function instrumentsIn(registry: Registry): Instruments {
  let found = instruments.get(registry);
  if (found) return found;
  const reg = { registers: [registry] };
  const counter = (m: { name: string; help: string; labels: readonly string[] }): Counter =>
    new Counter({ name: m.name, help: m.help, labelNames: [...m.labels], ...reg });
  const gauge = (m: { name: string; help: string; labels: readonly string[] }): Gauge => new Gauge({ name: m.name, help: m.help, labelNames: [...m.labels], ...reg });
  found = {
    vmsCreated: counter(METRICS.vmsCreated),
    vmsDeleted: counter(METRICS.vmsDeleted),
    vmsFailed: counter(METRICS.vmsFailed),
    cloudCalls: counter(METRICS.cloudCalls),
    throttled: counter(METRICS.throttled),
    lookupsFailed: counter(METRICS.lookupsFailed),
    callSeconds: new Histogram({
      name: METRICS.callSeconds.name, help: METRICS.callSeconds.help, labelNames: [...METRICS.callSeconds.labels],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], ...reg,
    }),
    vms: gauge(METRICS.vms),
    slots: gauge(METRICS.slots),
    concurrency: gauge(METRICS.concurrency),
  };
  instruments.set(registry, found);
  return found;
}

/**
 * The reason as a label: its first word (`stopped: HTTP 500` → `stopped`,
 * `submit: flavor m1.small` → `submit`), so labels stay few; a failed
 * create's reason is its error message, so it counts as `submit`.
 */
function reasonOf(e: AuditEvent): string {
  if (e.action === "create" && e.outcome === "failed") return "submit";
  return /^[\w-]+/.exec(e.reason)?.[0] ?? "unknown";
}

/** A VM of this CE and queue, or adopted without any cloudce tag (every queue's; see ownership.ts). */
function ofQueue(metadata: Readonly<Record<string, string>>, ce: string, queue: string): boolean {
  const owner = metadata[OWNER_KEY];
  return owner === undefined || (owner === ce && metadata[QUEUE_KEY] === queue);
}

/** An observer that records one CE's work in a registry. */
export function metricsObserver(registry: Registry, ce: string, queue: string): CeObserver {
  const m = instrumentsIn(registry);
  const base = { ce, queue };
  return {
    cloudCall: (e) => {
      m.cloudCalls.inc({ ...base, driver: e.driver, operation: e.operation, outcome: e.outcome, code: e.code ?? "" });
      m.callSeconds.observe({ ...base, driver: e.driver, operation: e.operation }, e.seconds);
    },
    throttled: (driver, operation) => m.throttled.inc({ ...base, driver, operation }),
    lookupFailed: (driver, lookup) => m.lookupsFailed.inc({ ...base, driver, lookup }),
    vms: (events) => {
      for (const e of events) {
        // A delete that found the VM gone removed nothing: another cleanup counted it.
        if (e.outcome === "gone") continue;
        if (e.outcome === "failed") m.vmsFailed.inc({ ...base, action: e.action, reason: reasonOf(e), code: e.code ?? "CloudError" });
        else if (e.action === "create") m.vmsCreated.inc({ ...base, reason: reasonOf(e) });
        else if (e.action === "delete") m.vmsDeleted.inc({ ...base, reason: reasonOf(e) });
      }
    },
    listed: (nodes) => {
      const counts = new Map<PilotStatus, number>(STATUSES.map((s) => [s, 0]));
      // A listing holds every queue's VMs of the CE: each queue's gauge counts its own.
      for (const n of nodes.filter((v) => ofQueue(v.metadata, ce, queue))) counts.set(pilotStatus(n), (counts.get(pilotStatus(n)) ?? 0) + 1);
      for (const [status, n] of counts) m.vms.set({ ...base, status }, n);
    },
    slots: (n) => m.slots.set(base, n),
    concurrency: (driver, endpoint, limit) => m.concurrency.set({ ...base, driver, endpoint }, limit),
  };
}
