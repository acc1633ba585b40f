/**
 * The cloud computing element: what a site director calls to run pilots as
 * VMs. Method names and result shapes follow DIRAC's ComputingElement; every
 * method is async and returns `{OK, Value}` / `{OK: false, Message}` instead
 * of throwing. It knows no cloud: everything cloud-specific is the driver's.
 */

import type { ContextRenderer } from "../context/index.js";
import { CloudceError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import type { Registry } from "prom-client";
import { metricsRegistry } from "../metrics/ce-metrics.js";
import type { CeObserver } from "./observer.js";
import type { CeContext } from "./ce-context.js";
import {
  describeCe,
  kindOf,
  mergedOptions,
  nameRuleFor,
  type CeOptionValue,
  type CloudComputingElementOptions,
  type RenderedUserData,
  type SubmitOptions,
} from "./ce-api-types.js";
import { cleanupOwnPilots } from "./cleanup.js";
import { buildCeContext } from "./context-builder.js";
import { FinishedPilots } from "./finished-pilots.js";
import { killFailures, killPilots, type KillReport } from "./kill.js";
import { unknownOptionProblems } from "./option-names.js";
import { PilotCredentials } from "./pilot-credentials.js";
import { readPilotOutput, renderPilotUserData } from "./pilot-output.js";
import {
  S_ERROR,
  S_OK,
  errorsAsResults,
  type CEInfoDict,
  type CEStatusCounts,
  type CleanupReport,
  type PilotStatus,
  type PolicyInfo,
  type Result,
} from "./results.js";
import { countNodes, listQueueNodes, pilotInfos, pilotStatuses, type PilotInfo } from "./status.js";
import { availableUnderPolicies } from "./available-under-policies.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import { policyInfo } from "./policy-info.js";
import { checkPilotCount, submitPilots, type SubmitResult } from "./submit-job.js";
import { loadTemplateFor } from "./template-loading.js";
import { checkSubmissionKey, recoveredAnswer, submissionNodes, type SubmissionAnswer } from "./submission-key.js";
import { checkValidity } from "./validity-check.js";

export type { KillReport } from "./kill.js";
export type { PilotInfo } from "./status.js";

export {
  MAX_PILOTS_PER_SUBMIT,
  type CeOptionValue,
  type CloudComputingElementOptions,
  type RenderedUserData,
  type SubmitOptions,
} from "./ce-api-types.js";

export class CloudComputingElement {
  readonly ceName: string;
  readonly ceType = "Cloud";
  private readonly log: Logger;
  private readonly baseDir: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly metrics: Registry | null;
  private readonly extraObserver: CeObserver | undefined;
  private params: Record<string, string> = {};
  private state: CeContext | undefined;
  private renderer: Promise<ContextRenderer> | undefined;
  private submittedJobs = 0;
  private readonly finished = new FinishedPilots();
  private readonly held: PilotCredentials;

  constructor(ceName: string, options: CloudComputingElementOptions = {}) {
    this.ceName = ceName;
    this.log = (options.logger ?? createLogger()).child({ ce: ceName });
    this.baseDir = options.baseDir ?? process.cwd();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.metrics = options.metrics === undefined ? metricsRegistry : options.metrics;
    this.extraObserver = options.observer;
    this.held = new PilotCredentials(ceName, this.now);
  }

  /**
   * Adds options, later values winning (pass CE options, then queue options).
   * A malformed value is refused and not stored: the options stay as they were. Unknown names are warned about.
   */
  async setParameters(options: Readonly<Record<string, CeOptionValue>>): Promise<Result<null>> {
    const loading = nameRuleFor(this.params, options);
    if (loading) await loading;
    const next = mergedOptions(this.params, options);
    if (!next.OK) return next;
    this.params = next.Value;
    await this.reset();
    for (const problem of unknownOptionProblems(Object.keys(options))) this.log.warn(`option ignored: ${problem}`);
    return S_OK(null);
  }

  /** The options as set so far (a copy). */
  getParameters(): Record<string, string> {
    return { ...this.params };
  }

  /**
   * Checks everything that can be checked without starting a VM: options,
   * driver, template, auth file, the folders the CE writes to; with
   * `online`, also image, flavor, networks and quota on the cloud. Options
   * that are set but ignored, and credentials running out, come back as
   * `Warnings`.
   */
  async isValid(options: { readonly online?: boolean } = {}): Promise<Result<null, { Warnings?: string[] }>> {
    const input = {
      params: this.params,
      baseDir: this.baseDir,
      ensure: () => this.ensure(),
      renderer: () => this.getRenderer(),
      assessment: () => this.credentialAssessment(),
    };
    return checkValidity(input, options.online === true);
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
    return this.guard(async () => {
      checkPilotCount(numberOfJobs);
      const key = opts.submission === undefined ? undefined : checkSubmissionKey(opts.submission);
      if (proxy) await this.held.setProxy(proxy);
      const input = {
        ensure: () => this.ensure(),
        renderer: () => this.getRenderer(),
        log: this.log,
        held: this.held,
        submitted: (n: number) => {
          this.submittedJobs += n;
        },
      };
      return await submitPilots(input, executableFile, numberOfJobs, key, opts);
    });
  }

  /**
   * The pilots of a keyed submission, found on the cloud by the key their VMs
   * carry, with their stamps; creates nothing. For a caller that lost the
   * answer of `submitJob(…, {submission: key})`.
   */
  async recoverSubmission(key: string): Promise<SubmissionAnswer> {
    return this.guard(async () => {
      const ctx = this.ensure();
      const checked = checkSubmissionKey(key);
      return await recoveredAnswer(ctx, checked, await submissionNodes(ctx, checked));
    });
  }

  /**
   * The user-data one pilot would get (for `cloudce render` and debugging), and
   * its encoded size against the driver's limit. Never logged.
   */
  async renderUserData(executableFile: string): Promise<Result<RenderedUserData>> {
    return this.guard(async () =>
      S_OK(await renderPilotUserData(this.ensure(), () => this.getRenderer(), this.ceName, executableFile)),
    );
  }

  /** Pilot reference → DIRAC status, from one listing of this CE's VMs. */
  async getJobStatus(refs: readonly string[]): Promise<Result<Record<string, PilotStatus>>> {
    return this.guard(async () => S_OK(await pilotStatuses(this.ensure(), refs)));
  }

  /** This CE's pilot VMs as the cloud lists them now (for operators: `cloudce status --all`). */
  async listPilots(): Promise<Result<PilotInfo[]>> {
    return this.guard(async () => S_OK(await pilotInfos(this.ensure())));
  }

  /** Counts of this queue's VMs: running, waiting (booting), and submitted by this object; with the policies' state. */
  async getCEStatus(): Promise<Result<CEStatusCounts & PolicyInfo, CEStatusCounts & PolicyInfo>> {
    return this.guard(async () => {
      const ctx = this.ensure();
      const nodes = await listQueueNodes(ctx);
      await ctx.policies.observe(nodes);
      const status = {
        ...countNodes(nodes, this.submittedJobs),
        ...policyInfo(ctx.policies, await this.credentialAssessment()),
      };
      ctx.observer?.policies?.(status);
      return S_OK(status, status);
    });
  }

  /**
   * Free slots: DIRAC's rule, the cloud's remaining quota, and the
   * creation-wave delay; none while a lifecycle policy says so (CEInfoDict `Reason`).
   */
  async available(): Promise<Result<number, CEStatusCounts & { CEInfoDict: CEInfoDict & PolicyInfo }>> {
    return this.guard(async () => {
      const ctx = this.ensure();
      const result = await availableUnderPolicies(ctx, this.submittedJobs, await this.credentialAssessment());
      ctx.observer?.slots?.(result.Value);
      if (result.OK) ctx.observer?.policies?.(result.CEInfoDict);
      return result;
    });
  }

  /** Destroys the given pilots' VMs; one already gone counts as killed. Never touches another CE's VMs. */
  async killJob(refs: readonly string[]): Promise<Result<KillReport>> {
    return this.guard(async () => {
      const report = await killPilots(this.ensure(), refs);
      return report.failed.length === 0 ? S_OK(report) : S_ERROR(killFailures(report), "CloudError");
    });
  }

  /** killJob's report as it is, also when some deletes failed (`failed` says which and why): for the CLI's partial exit. */
  async killPilots(refs: readonly string[]): Promise<Result<KillReport>> {
    return this.guard(async () => S_OK(await killPilots(this.ensure(), refs)));
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
    return this.guard(async () => {
      const ctx = this.ensure();
      return S_OK(
        await cleanupOwnPilots(
          ctx,
          { ...(opts.signal ? { signal: opts.signal } : {}), graceMs: ctx.settings.requestTimeoutMs },
          opts.dryRun === true,
        ),
      );
    });
  }

  /** The VM's console log as `[stdout, stderr]`, where the driver can give it; only this CE's VMs, as killJob. */
  async getJobOutput(ref: string): Promise<Result<[string, string]>> {
    return this.guard(async () => S_OK([await readPilotOutput(this.ensure(), ref), ""] as [string, string]));
  }

  /** The CE description (options, integers as numbers), as DIRAC's JobAgent reads it. */
  async getDescription(): Promise<Result<Record<string, string | number>>> {
    return S_OK(describeCe(this.params, this.ceName, this.ceType));
  }

  /**
   * Keeps the site director's proxy: used where the auth file says `secret = PROXY`.
   * `opts.file` names the file an admin keeps it in (`cloudce --proxy`): only then
   * does a proxy running out get a warning, since SiteDirector renews its own.
   */
  async setProxy(proxy: string, valid = 0, opts: { readonly file?: string } = {}): Promise<Result<null>> {
    if (typeof proxy !== "string")
      return S_ERROR(`setProxy: expects the proxy as a PEM string, got ${kindOf(proxy)}`, "ProxyInvalid");
    return this.guard(async () => {
      await this.held.setProxy(proxy, valid);
      this.held.proxyFile = opts.file;
      return S_OK(null);
    });
  }

  /** OK with the seconds left when at least `valid` seconds remain. */
  async isProxyValid(valid = 1000): Promise<Result<number>> {
    return this.guard(async () => {
      if (!this.held.proxyPem) throw new CloudceError("ProxyMissing", "no proxy set: call setProxy() first");
      return S_OK(this.held.proxySecondsLeft(valid));
    });
  }

  /** Keeps a bearer token: used where the auth file says `secret = TOKEN`. */
  async setToken(token: string): Promise<Result<null>> {
    if (typeof token !== "string")
      return S_ERROR(`setToken: expects the bearer token as a string, got ${kindOf(token)}`, "TokenMissing");
    this.held.setToken(token);
    return S_OK(null);
  }

  /**
   * The longest a call of this CE may still run once its stop signal fired
   * (one Cloud_RequestTimeout); 0 before any call built the cloud context, as
   * nothing can be running then.
   */
  get stopGraceMs(): number {
    return this.state?.settings.requestTimeoutMs ?? 0;
  }

  /** Releases the driver and removes the private proxy file. */
  async shutdown(): Promise<Result<Record<string, never>>> {
    await this.reset();
    return S_OK({});
  }

  /** Builds the settings, credentials and driver runtime for the current options. */
  private ensure(): CeContext {
    if (this.state) return this.state;
    this.state = buildCeContext({
      ceName: this.ceName,
      params: this.params,
      log: this.log,
      baseDir: this.baseDir,
      now: this.now,
      random: this.random,
      metrics: this.metrics,
      extraObserver: this.extraObserver,
      held: this.held,
      finished: this.finished,
    });
    return this.state;
  }

  /** What every credential says about its end: the proxy, the token, and what the driver reads from the cloud. */
  private async credentialAssessment(): Promise<CredentialAssessment> {
    const { runtime, policies } = this.ensure();
    const driver = await runtime.get().catch(() => undefined);
    const { proxyPem, proxyFile, proxyValidUntil, token } = this.held;
    return policies.credentials({ proxyPem, proxyFile, proxyValidUntil, token, driver });
  }

  private getRenderer(): Promise<ContextRenderer> {
    if (!this.renderer) {
      const { settings, runtime } = this.ensure();
      // The driver says what its user-data is: a cloud-config, or a Kubernetes manifest.
      const loading = runtime.get().then((driver) => loadTemplateFor(driver, settings));
      loading.catch(() => {
        if (this.renderer === loading) this.renderer = undefined;
      });
      this.renderer = loading;
    }
    return this.renderer;
  }

  private async reset(): Promise<void> {
    const old = this.state;
    this.state = undefined;
    this.renderer = undefined;
    if (old) await Promise.all([old.runtime.close(), old.credentials.close()]);
  }

  /** Turns anything thrown into a DIRAC-style error result: the site director's process never sees an exception. */
  private guard<R>(fn: () => Promise<R>): Promise<R | ReturnType<typeof S_ERROR>> {
    return errorsAsResults(this.log, fn);
  }
}
