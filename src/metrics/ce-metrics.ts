/**
 * Prometheus metrics of the CE, with prom-client. Every metric carries the
 * CE name and queue as labels. The library keeps them in one registry,
 * {@link metricsRegistry}, that an embedding site director can serve or
 * merge into its own; a CE can be given another registry, or none.
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The library's registry: every CE in this process reports here unless told otherwise. */
export const metricsRegistry = new Registry();

/** Every metric, its help text and labels: the single list the docs describe. */
export const METRICS = {
  vmsCreated: { name: "cloudce_vms_created_total", help: "Pilot VMs created.", labels: ["ce", "queue", "reason"] },
  vmsDeleted: {
    name: "cloudce_vms_deleted_total",
    help: "Pilot VMs deleted, by why (stopped, error, expired, boot-timeout, killed).",
    labels: ["ce", "queue", "reason"],
  },
  vmsFailed: {
    name: "cloudce_vms_failed_total",
    help: "Pilot VM creations and deletions that failed, by action, reason and error code.",
    labels: ["ce", "queue", "action", "reason", "code"],
  },
  cloudCalls: {
    name: "cloudce_cloud_calls_total",
    help: "Cloud calls made through the driver, by outcome and error code.",
    labels: ["ce", "queue", "driver", "operation", "outcome", "code"],
  },
  throttled: {
    name: "cloudce_cloud_throttled_total",
    help: "Throttled cloud answers (HTTP 429, RequestLimitExceeded), retried or not.",
    labels: ["ce", "queue", "driver", "operation"],
  },
  lookupsFailed: {
    name: "cloudce_cloud_lookups_failed_total",
    help: "Secondary look-ups a driver could not make (lookup: preemptions on GCE), so what it reported was less precise.",
    labels: ["ce", "queue", "driver", "lookup"],
  },
  callSeconds: {
    name: "cloudce_cloud_call_duration_seconds",
    help: "Latency of cloud calls, retries included.",
    labels: ["ce", "queue", "driver", "operation"],
  },
  vms: {
    name: "cloudce_vms",
    help: "The queue's VMs at the last listing, by DIRAC pilot status.",
    labels: ["ce", "queue", "status"],
  },
  slots: {
    name: "cloudce_slots_available",
    help: "Slots available() offered at its last call.",
    labels: ["ce", "queue"],
  },
  concurrency: {
    name: "cloudce_cloud_concurrency_limit",
    help: "Calls that cannot be batched (deletes, per-VM creates, look-ups) the CE lets the cloud endpoint have at once, as learnt from its latency.",
    labels: ["ce", "queue", "driver", "endpoint"],
  },
  hedges: {
    name: "cloudce_cloud_hedges_total",
    help: "Duplicates sent of slow idempotent cloud calls (listings, single deletes, look-ups), by whether the duplicate answered first (won) or not (lost).",
    labels: ["ce", "queue", "driver", "endpoint", "operation", "outcome"],
  },
  overLifetime: {
    name: "cloudce_vms_over_lifetime",
    help: "The queue's VMs at the last listing older than Context_MaxLifetime: cleanup should have removed them.",
    labels: ["ce", "queue"],
  },
  circuitOpen: {
    name: "cloudce_cloud_circuit_open",
    help: "1 while the cloud-health breaker is open (the CE makes no cloud call), else 0.",
    labels: ["ce", "queue"],
  },
  fizzleBackoff: {
    name: "cloudce_fizzle_backoff",
    help: "1 while a fizzle backoff withholds slots (pilots end too soon after they start), else 0.",
    labels: ["ce", "queue"],
  },
  credentialExpiry: {
    name: "cloudce_credential_expiry_timestamp_seconds",
    help: "When the credential that ends first (proxy, token, key) ends, as a Unix time.",
    labels: ["ce", "queue", "kind"],
  },
  cleanupLastSuccess: {
    name: "cloudce_cleanup_last_success_timestamp_seconds",
    help: "When the last cleanup pass without a failed delete ended (a loop's start until its first), as a Unix time.",
    labels: ["ce"],
  },
  cleanupInterval: {
    name: "cloudce_cleanup_interval_seconds",
    help: "The --every interval of the cleanup loop.",
    labels: ["ce"],
  },
} as const;

/** The metrics that are gauges (the rest are counters, and callSeconds a histogram). */
export const GAUGES: readonly (keyof typeof METRICS)[] = [
  "vms",
  "slots",
  "concurrency",
  "overLifetime",
  "circuitOpen",
  "fizzleBackoff",
  "credentialExpiry",
  "cleanupLastSuccess",
  "cleanupInterval",
];

export interface Instruments {
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
  hedges: Counter;
  overLifetime: Gauge;
  circuitOpen: Gauge;
  fizzleBackoff: Gauge;
  credentialExpiry: Gauge;
  cleanupLastSuccess: Gauge;
  cleanupInterval: Gauge;
}

const instruments = new WeakMap<Registry, Instruments>();

/** The metrics in a registry, created there on first use (prom-client refuses a name twice). */
export function instrumentsIn(registry: Registry): Instruments {
  let found = instruments.get(registry);
  if (found) return found;
  const reg = { registers: [registry] };
  const counter = (m: { name: string; help: string; labels: readonly string[] }): Counter =>
    new Counter({ name: m.name, help: m.help, labelNames: [...m.labels], ...reg });
  const gauge = (m: { name: string; help: string; labels: readonly string[] }): Gauge =>
    new Gauge({ name: m.name, help: m.help, labelNames: [...m.labels], ...reg });
  found = {
    vmsCreated: counter(METRICS.vmsCreated),
    vmsDeleted: counter(METRICS.vmsDeleted),
    vmsFailed: counter(METRICS.vmsFailed),
    cloudCalls: counter(METRICS.cloudCalls),
    throttled: counter(METRICS.throttled),
    lookupsFailed: counter(METRICS.lookupsFailed),
    callSeconds: new Histogram({
      name: METRICS.callSeconds.name,
      help: METRICS.callSeconds.help,
      labelNames: [...METRICS.callSeconds.labels],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ...reg,
    }),
    vms: gauge(METRICS.vms),
    slots: gauge(METRICS.slots),
    concurrency: gauge(METRICS.concurrency),
    hedges: counter(METRICS.hedges),
    overLifetime: gauge(METRICS.overLifetime),
    circuitOpen: gauge(METRICS.circuitOpen),
    fizzleBackoff: gauge(METRICS.fizzleBackoff),
    credentialExpiry: gauge(METRICS.credentialExpiry),
    cleanupLastSuccess: gauge(METRICS.cleanupLastSuccess),
    cleanupInterval: gauge(METRICS.cleanupInterval),
  };
  instruments.set(registry, found);
  return found;
}

/** A cleanup pass ended (loop or one-shot): when it succeeded, the time; and the loop's interval, when there is one. */
export function recordCleanupPass(
  registry: Registry,
  ce: string,
  pass: { succeeded: boolean; intervalSeconds?: number; at?: Date },
): void {
  const m = instrumentsIn(registry);
  if (pass.intervalSeconds !== undefined) m.cleanupInterval.set({ ce }, pass.intervalSeconds);
  if (pass.succeeded) m.cleanupLastSuccess.set({ ce }, (pass.at ?? new Date()).getTime() / 1000);
}
