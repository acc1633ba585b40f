/** What the campaign needs of a test cloud: faults, and the truth about every VM it ever made. */

import type { Fault } from "./scenario.js";

/** Per-attempt deadline of the campaign's drivers: a "latency" fault waits past it. */
export const CAMPAIGN_TIMEOUT_MS = 250;

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
export async function whenIdle(inFlight: () => number, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (inFlight() > 0) {
    if (Date.now() > deadline) throw new Error(`the test cloud still handles ${inFlight()} request(s) after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
