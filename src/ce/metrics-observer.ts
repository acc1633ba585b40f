/**
 * The CE's work as Prometheus metrics: an observer that turns what the CE
 * reports into the instruments of a registry (src/metrics), which knows
 * nothing of the CE.
 */

import type { Registry } from "prom-client";
import { instrumentsIn } from "../metrics/ce-metrics.js";
import type { AuditEvent } from "./audit.js";
import type { CeObserver } from "./observer.js";
import { OWNER_KEY, QUEUE_KEY } from "./ownership.js";
import type { PilotStatus } from "./results.js";
import { pilotStatus } from "./status-map.js";

const STATUSES: readonly PilotStatus[] = ["Waiting", "Running", "Done", "Aborted", "Deleted", "Unknown"];

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
export function metricsObserver(
  registry: Registry,
  ce: string,
  queue: string,
  lifetime: { readonly maxLifetimeSeconds: number; readonly now: () => number } = {
    maxLifetimeSeconds: Number.POSITIVE_INFINITY,
    now: Date.now,
  },
): CeObserver {
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
        if (e.outcome === "failed")
          m.vmsFailed.inc({ ...base, action: e.action, reason: reasonOf(e), code: e.code ?? "CloudError" });
        else if (e.action === "create") m.vmsCreated.inc({ ...base, reason: reasonOf(e) });
        else if (e.action === "delete") m.vmsDeleted.inc({ ...base, reason: reasonOf(e) });
      }
    },
    listed: (nodes) => {
      const counts = new Map<PilotStatus, number>(STATUSES.map((s) => [s, 0]));
      // A listing holds every queue's VMs of the CE: each queue's gauge counts its own.
      for (const n of nodes.filter((v) => ofQueue(v.metadata, ce, queue)))
        counts.set(pilotStatus(n), (counts.get(pilotStatus(n)) ?? 0) + 1);
      for (const [status, n] of counts) m.vms.set({ ...base, status }, n);
      // Judged by the CE's own clock, as cleanup judges expiry.
      const oldest = lifetime.now() - lifetime.maxLifetimeSeconds * 1000;
      m.overLifetime.set(
        base,
        nodes.filter((v) => ofQueue(v.metadata, ce, queue) && v.createdAt.getTime() < oldest).length,
      );
    },
    policies: (info) => {
      m.circuitOpen.set(base, info.CloudHealth === "circuit-open" ? 1 : 0);
      m.fizzleBackoff.set(base, info.BackoffUntil !== undefined ? 1 : 0);
      if (info.CredentialKind !== undefined && info.CredentialExpiry !== undefined) {
        m.credentialExpiry.set({ ...base, kind: info.CredentialKind }, Date.parse(info.CredentialExpiry) / 1000);
      }
    },
    slots: (n) => m.slots.set(base, n),
    concurrency: (driver, endpoint, limit) => m.concurrency.set({ ...base, driver, endpoint }, limit),
    hedged: (driver, endpoint, operation, outcome) => m.hedges.inc({ ...base, driver, endpoint, operation, outcome }),
  };
}
