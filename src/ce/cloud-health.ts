/**
 * Cloud health and the circuit breaker. A failed listing of this CE's VMs
 * makes the state unknown, so `available()` offers nothing. After
 * `Health_FailureThreshold` consecutive failures (0 = never open) the
 * breaker opens: no listing reaches the cloud for `Health_CoolDownSeconds`,
 * stretched by up to ±10% of random jitter so that many CEs on one cloud do
 * not probe at once. Then one call, the probe, goes through: success closes
 * the breaker, failure opens it again. Callers meanwhile get the open answer.
 */

import { CloudceError, toCloudceError } from "../errors.js";
import type { PolicySettings } from "./ce-options.js";
import type { DecisionSink } from "./policy-decisions.js";

const JITTER = 0.1;

export type HealthState = "ok" | "failing" | "circuit-open";

export interface HealthReport {
  readonly state: HealthState;
  readonly reason?: string;
  readonly consecutiveFailures: number;
  /** When the probe may go through, while the breaker is open. */
  readonly probeAt?: Date;
}

export class CloudHealth {
  private failures = 0;
  private lastError = "";
  /** When the probe may go, on the elapsed clock; `probeDate` is the same moment as a date to show. */
  private probeAt: number | undefined;
  private probeDate = new Date(0);
  private probing = false;

  constructor(
    private readonly settings: Pick<PolicySettings, "healthFailureThreshold" | "healthCoolDownSeconds">,
    private readonly now: () => number,
    private readonly random: () => number,
    private readonly decide: DecisionSink,
    /** Measures the cool-down: monotonic, so that a step of the system clock neither stretches nor skips it. */
    private readonly elapsed: () => number = now,
  ) {}

  /** Runs a listing through the breaker: refused while open, the probe once the cool-down is over. */
  async call<T>(list: () => Promise<T>): Promise<T> {
    const wasOpen = this.probeAt !== undefined;
    if (wasOpen && (this.probing || this.elapsed() < this.probeAt!)) throw this.openError();
    this.probing = wasOpen;
    try {
      const value = await list();
      if (wasOpen)
        await this.decide([
          { decision: "circuit-closed", detail: "the probe listing succeeded: calling the cloud again" },
        ]);
      this.failures = 0;
      this.probeAt = undefined;
      return value;
    } catch (err) {
      await this.failed(toCloudceError(err), wasOpen);
      throw err;
    } finally {
      this.probing = false;
    }
  }

  /** Refuses a cloud call while the breaker is open (submissions check this first). */
  assertClosed(): void {
    if (this.probeAt !== undefined && this.elapsed() < this.probeAt) throw this.openError();
  }

  report(): HealthReport {
    if (this.probeAt !== undefined) {
      return {
        state: "circuit-open",
        reason: this.openError().message,
        consecutiveFailures: this.failures,
        probeAt: this.probeDate,
      };
    }
    if (this.failures > 0)
      return {
        state: "failing",
        reason: `cannot list this CE's VMs (${this.failures} in a row): ${this.lastError}`,
        consecutiveFailures: this.failures,
      };
    return { state: "ok", consecutiveFailures: 0 };
  }

  private async failed(err: CloudceError, probe: boolean): Promise<void> {
    this.failures += 1;
    this.lastError = err.message;
    const { healthFailureThreshold: threshold, healthCoolDownSeconds: coolDown } = this.settings;
    if (threshold === 0 || (!probe && this.failures < threshold)) return;
    const wait = coolDown * 1000 * (1 - JITTER + 2 * JITTER * this.random());
    this.probeAt = this.elapsed() + Math.round(wait);
    this.probeDate = new Date(this.now() + Math.round(wait));
    const why = probe ? "the probe listing failed" : `${this.failures} consecutive listings failed`;
    await this.decide([
      {
        decision: "circuit-open",
        detail: `${why}; not calling the cloud until ${this.probeDate.toISOString()} (Health_CoolDownSeconds ${coolDown}): ${err.message}`,
      },
    ]);
  }

  private openError(): CloudceError {
    return new CloudceError(
      "CloudUnavailable",
      `circuit breaker open after ${this.failures} failed listings: ` +
        `not calling the cloud until ${this.probeDate.toISOString()}, then one probe (last error: ${this.lastError})`,
      { retryable: true },
    );
  }
}
