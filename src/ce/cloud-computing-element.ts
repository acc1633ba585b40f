/**
 * The cloud computing element: what a site director calls to run pilots as
 * VMs. Method names and result shapes follow DIRAC's ComputingElement; every
 * method is async and returns `{OK, Value}` / `{OK: false, Message, Code}`
 * instead of throwing. It adapts the typed core (cloud-core.ts), which holds
 * the logic; it knows no cloud: everything cloud-specific is the driver's.
 */

import type { CloudComputingElementOptions, CeOptionValue, RenderedUserData, SubmitOptions } from "./ce-api-types.js";
import { CloudCore } from "./cloud-core.js";
import type { KillReport } from "./kill.js";
import { killResult } from "./kill.js";
import {
  type CEInfoDict,
  type CEStatusCounts,
  type CleanupReport,
  availableResult,
  type Err,
  errorsAsResults,
  type PilotStatus,
  type PolicyInfo,
  type Result,
  S_OK,
  type SubmitResult,
  submitResult,
  validityResult,
} from "./results.js";
import type { PilotInfo } from "./status.js";

export type { KillReport } from "./kill.js";
export type { PilotInfo } from "./status.js";
export type { SubmitResult } from "./results.js";

export {
  MAX_PILOTS_PER_SUBMIT,
  type CeOptionValue,
  type CloudComputingElementOptions,
  type RenderedUserData,
  type SubmitOptions,
} from "./ce-api-types.js";

export class CloudComputingElement {
  readonly ceType = "Cloud";
  /** The typed core: values and CloudceErrors instead of DIRAC results (the CLI and `serve` use it). */
  readonly core: CloudCore;

  constructor(ceName: string, options: CloudComputingElementOptions = {}) {
    this.core = new CloudCore(ceName, options);
  }

  get ceName(): string {
    return this.core.ceName;
  }

  /**
   * Adds options, later values winning (pass CE options, then queue options).
   * A malformed value is refused and not stored: the options stay as they were. Unknown names are warned about.
   */
  async setParameters(options: Readonly<Record<string, CeOptionValue>>): Promise<Result<null>> {
    return this.guard(async () => S_OK(await this.core.setParameters(options).then(() => null)));
  }

  /** The options as set so far (a copy). */
  getParameters(): Record<string, string> {
    return this.core.getParameters();
  }

  /**
   * Checks everything that can be checked without starting a VM: options,
   * driver, template, auth file, the folders the CE writes to; with
   * `online`, also image, flavor, networks and quota on the cloud. Options
   * that are set but ignored, and credentials running out, come back as
   * `Warnings`.
   */
  async isValid(options: { readonly online?: boolean } = {}): Promise<Result<null, { Warnings?: string[] }>> {
    return this.guard(async () => validityResult(await this.core.isValid(options.online === true)));
  }

  /**
   * Starts `numberOfJobs` pilot VMs running the executable; `PilotStampDict`
   * is keyed by pilot reference. Once `opts.signal` aborts, no further create
   * starts and creates in flight get up to Cloud_RequestTimeout to answer;
   * the result is then OK with the pilots made so far, and `Interrupted` says
   * what was left undone. A submission that made some but not all pilots is
   * OK with `Partial`: how many are missing and the error codes why.
   */
  async submitJob(
    executableFile: string,
    proxy?: string | null,
    numberOfJobs = 1,
    opts: SubmitOptions = {},
  ): Promise<SubmitResult> {
    return this.guard(async () => submitResult(await this.core.submitJob(executableFile, proxy, numberOfJobs, opts)));
  }

  /**
   * The pilots of a keyed submission, found on the cloud by the key their VMs
   * carry, with their stamps; creates nothing. For a caller that lost the
   * answer of `submitJob(…, {submission: key})`.
   */
  async recoverSubmission(key: string): Promise<SubmitResult> {
    return this.guard(async () => submitResult(await this.core.recoverSubmission(key)));
  }

  /**
   * The user-data one pilot would get (for `cloudce render` and debugging), and
   * its encoded size against the driver's limit. Never logged.
   */
  async renderUserData(executableFile: string): Promise<Result<RenderedUserData>> {
    return this.guard(async () => S_OK(await this.core.renderUserData(executableFile)));
  }

  /** Pilot reference → DIRAC status, from one listing of this CE's VMs. */
  async getJobStatus(refs: readonly string[]): Promise<Result<Record<string, PilotStatus>>> {
    return this.guard(async () => S_OK(await this.core.getJobStatus(refs)));
  }

  /** This CE's pilot VMs as the cloud lists them now (for operators: `cloudce status --all`). */
  async listPilots(): Promise<Result<PilotInfo[]>> {
    return this.guard(async () => S_OK(await this.core.listPilots()));
  }

  /** Counts of this queue's VMs: running, waiting (booting), and submitted by this object; with the policies' state. */
  async getCEStatus(): Promise<Result<CEStatusCounts & PolicyInfo, CEStatusCounts & PolicyInfo>> {
    return this.guard(async () => {
      const status = await this.core.getCEStatus();
      return S_OK(status, status);
    });
  }

  /**
   * Free slots: DIRAC's rule, the cloud's remaining quota, and the
   * creation-wave delay; none while a lifecycle policy says so (CEInfoDict `Reason`).
   */
  async available(): Promise<Result<number, CEStatusCounts & { CEInfoDict: CEInfoDict & PolicyInfo }>> {
    return this.guard(async () => availableResult(await this.core.available()));
  }

  /** Destroys the given pilots' VMs; one already gone counts as killed. Never touches another CE's VMs. */
  async killJob(refs: readonly string[]): Promise<Result<KillReport>> {
    return this.guard(async () => killResult(await this.core.killPilots(refs)));
  }

  /**
   * Removes this CE's stopped, failed and over-age VMs; one failed deletion
   * never stops the rest. Once `opts.signal` aborts, no further delete starts
   * (deletes in flight get up to Cloud_RequestTimeout) and the report says so
   * in `interrupted`. With `dryRun`, nothing is deleted: `wouldDelete` lists what would be.
   */
  async cleanupPilots(
    opts: { readonly signal?: AbortSignal; readonly dryRun?: boolean } = {},
  ): Promise<Result<CleanupReport>> {
    return this.guard(async () => S_OK(await this.core.cleanupPilots(opts)));
  }

  /** The VM's console log as `[stdout, stderr]`, where the driver can give it; only this CE's VMs, as killJob. */
  async getJobOutput(ref: string): Promise<Result<[string, string]>> {
    return this.guard(async () => S_OK([await this.core.getJobOutput(ref), ""] as [string, string]));
  }

  /** The CE description (options, integers as numbers), as DIRAC's JobAgent reads it. */
  async getDescription(): Promise<Result<Record<string, string | number>>> {
    return S_OK(this.core.describe(this.ceType));
  }

  /**
   * Keeps the site director's proxy: used where the auth file says `secret = PROXY`.
   * `opts.file` names the file an admin keeps it in (`cloudce --proxy`): only then
   * does a proxy running out get a warning, since SiteDirector renews its own.
   */
  async setProxy(proxy: string, valid = 0, opts: { readonly file?: string } = {}): Promise<Result<null>> {
    return this.guard(async () => S_OK(await this.core.setProxy(proxy, valid, opts.file).then(() => null)));
  }

  /** OK with the seconds left when at least `valid` seconds remain. */
  async isProxyValid(valid = 1000): Promise<Result<number>> {
    return this.guard(async () => S_OK(await this.core.proxySecondsLeft(valid)));
  }

  /** Keeps a bearer token: used where the auth file says `secret = TOKEN`. */
  async setToken(token: string): Promise<Result<null>> {
    return this.guard(async () => {
      this.core.setToken(token);
      return S_OK(null);
    });
  }

  /**
   * The longest a call of this CE may still run once its stop signal fired
   * (one Cloud_RequestTimeout); 0 before any call built the cloud context, as
   * nothing can be running then.
   */
  get stopGraceMs(): number {
    return this.core.stopGraceMs;
  }

  /** Releases the driver and removes the private proxy file. */
  async shutdown(): Promise<Result<Record<string, never>>> {
    await this.core.shutdown();
    return S_OK({});
  }

  /** Turns anything thrown into a DIRAC-style error result: the site director's process never sees an exception. */
  private guard<R>(fn: () => Promise<R>): Promise<R | Err> {
    return errorsAsResults(this.core.log, fn);
  }
}
