/** What the campaign needs of a test cloud: faults, and the truth about every VM it ever made. */

import type { Fault } from "./scenario.js";
import { HANG_GUARD_MS, HANG_TIMEOUT_MS } from "../../support/wait.js";

/**
 * Per-attempt deadline of the campaign's drivers: a "latency" fault waits past it. Only the
 * injected hangs may reach it: a shorter one turns a busy machine's slow answer into a retry
 * the seed did not draw, and the seed fails by timing, not by a fault of the code.
 */
export const CAMPAIGN_TIMEOUT_MS = HANG_TIMEOUT_MS;

/** A VM as the cloud itself knows it (not as the CE reports it). */
export interface CloudVm {
  readonly id: string;
  readonly name: string;
  /** Still running or booting: not deleted, not being deleted. */
  readonly live: boolean;
}

export interface CampaignCloud {
  readonly name: string;
  /** CE options that point a CE at this cloud. */
  readonly ceOptions: Readonly<Record<string, string>>;
  /** Strings that must never reach a log. */
  secrets(): string[];
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Create calls the cloud has received so far (a stopped submit is held to them). */
  createCalls(): number;
  /**
   * Create calls that may still reach the cloud after a stop: those already
   * under way (the driver's pool of per-VM creates, retries of one
   * idempotent request). Anything beyond is a create started after the stop.
   */
  readonly createsAfterStop: number;
  /** Calls a fault fired on so far. */
  faultsFired(): number;
  /** Every VM the cloud ever made for this CE, deleted ones included. */
  vms(ceName: string): CloudVm[];
  /** VMs beyond one per pilot (a create that made a twin, a batch launched twice). */
  doubled(ceName: string): number;
  /** Whether the cloud is deleting or has deleted this VM. */
  deleting(id: string): boolean;
  /**
   * Resolves once the cloud handles no request: a create delayed past the
   * client's timeout has then acted, so the final cleanup sees its VM (as the
   * next cleanup in production would).
   */
  quiesce(): Promise<void>;
  /** Some of this CE's VMs power off, as a finished pilot's do. */
  finish(ids: readonly string[]): void;
  close(): Promise<void>;
}

/** Polls a cloud's in-flight count until it is zero (bounded: a request the server never finishes fails the scenario). */
export async function whenIdle(inFlight: () => number, limitMs = HANG_GUARD_MS): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (inFlight() > 0) {
    if (Date.now() > deadline)
      throw new Error(`the test cloud still handles ${inFlight()} request(s) after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A fault as the EC2 and GCE test servers both spell it, to be aimed at a call. */
export interface ServerFaultSpec {
  readonly kind: "delay" | "drop" | "dropAfter" | "hangAfter";
  readonly ms?: number;
  readonly times: number;
  readonly before?: () => void;
}

/** The faults of the connection (a slow answer, a reset, an answer lost after the call acted), for servers that take ServerFaultSpec. */
export function connectionFault(
  kind: Extract<Fault["kind"], "latency" | "reset" | "lost">,
  times: number,
): ServerFaultSpec {
  switch (kind) {
    case "latency":
      return { kind: "delay", ms: CAMPAIGN_TIMEOUT_MS + 150, times };
    case "reset":
      return { kind: "drop", times };
    case "lost":
      return { kind: times === 2 ? "hangAfter" : "dropAfter", times };
  }
}

/** A listing that changes between its pages: the first page passes, then `change` runs before each of the next `times` pages. */
export function pageChange(times: number, change: () => void): ServerFaultSpec[] {
  return [
    { kind: "delay", ms: 0, times: 1 },
    { kind: "delay", ms: 0, times, before: change },
  ];
}

/**
 * VMs beyond the first create of their batch: a submission is one call
 * (one batch tag or label), so VMs from a second call of it are doubles.
 */
export function beyondFirstCreate(vms: Iterable<{ readonly batch: string; readonly create: string }>): number {
  const batches = new Map<string, Map<string, number>>();
  for (const vm of vms) {
    const creates = batches.get(vm.batch) ?? new Map<string, number>();
    creates.set(vm.create, (creates.get(vm.create) ?? 0) + 1);
    batches.set(vm.batch, creates);
  }
  return [...batches.values()].reduce((n, creates) => n + [...creates.values()].slice(1).reduce((a, b) => a + b, 0), 0);
}
