/**
 * The CE's logic with plain types: every method returns a value or throws a
 * CloudceError with a stable code (validation problems in its `problems`).
 * The DIRAC-shaped CloudComputingElement, the CLI and `serve` are built on it.
 */

import type { Registry } from "prom-client";
import type { ContextRenderer } from "../context/index.js";
import { CloudceError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import { metricsRegistry } from "../metrics/ce-metrics.js";
import { availableUnderPolicies } from "./available-under-policies.js";
import {
  API_TERMS,
  type CallerTerms,
  type CeOptionValue,
  type CloudComputingElementOptions,
  describeCe,
  kindOf,
  mergedOptions,
  nameRuleFor,
  type RenderedUserData,
  type SubmitOptions,
} from "./ce-api-types.js";
import type { CeContext } from "./ce-context.js";
import { cleanupOwnPilots } from "./cleanup.js";
import { buildCeContext } from "./context-builder.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import { FinishedPilots } from "./finished-pilots.js";
import { type KillReport, killPilots } from "./kill.js";
import type { CeObserver } from "./observer.js";
import { unknownOptionProblems } from "./option-names.js";
import { PilotCredentials } from "./pilot-credentials.js";
import { readPilotOutput, renderPilotUserData } from "./pilot-output.js";
import { policyInfo } from "./policy-info.js";
import { RecentListing } from "./recent-listing.js";
import type { CEInfoDict, CEStatusCounts, CleanupReport, PilotStatus, PolicyInfo } from "./results.js";
import { countNodes, listQueueNodes, type PilotInfo, pilotInfos, pilotStatuses } from "./status.js";
import { checkSubmissionKey, recoveredAnswer, type SubmitAnswer, submissionNodes } from "./submission-key.js";
import { checkPilotCount, submitPilots } from "./submit-job.js";
import { loadTemplateFor } from "./template-loading.js";
import { checkValidity, type Validity } from "./validity-check.js";

/** What `available()` found: free slots, the counts, and DIRAC's CEInfoDict with the policies' state. */
export interface Availability {
  readonly slots: number;
  readonly counts: CEStatusCounts;
  readonly info: CEInfoDict & PolicyInfo;
}

export class CloudCore {
  readonly ceName: string;
  readonly log: Logger;
  private readonly baseDir: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly metrics: Registry | null;
  private readonly extraObserver: CeObserver | undefined;
  private readonly terms: CallerTerms;
  private params: Record<string, string> = {};
  private state: CeContext | undefined;
  private renderer: Promise<ContextRenderer> | undefined;
  private submittedJobs = 0;
  private readonly finished = new FinishedPilots();
  /** Kept across option changes as `finished` is, but forgotten by them (reset). */
  private readonly recent = new RecentListing();
  private readonly held: PilotCredentials;
  /** The setParameters calls still to take effect, in order, and their count. */
  private setting: Promise<unknown> = Promise.resolve();
  private settingCalls = 0;

  constructor(ceName: string, options: CloudComputingElementOptions = {}) {
    this.ceName = ceName;
    this.log = (options.logger ?? createLogger()).child({ ce: ceName });
    this.baseDir = options.baseDir ?? process.cwd();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.metrics = options.metrics === undefined ? metricsRegistry : options.metrics;
    this.extraObserver = options.observer;
    this.terms = options.terms ?? API_TERMS;
    this.held = new PilotCredentials(ceName, this.now, this.terms.giveProxy);
  }

  /**
   * Adds options, later values winning; throws `OptionInvalid` (every problem in `problems`) and keeps the old ones.
   * Calls take effect in the order they were made, even while one waits for its cloud type's name rule.
   */
  async setParameters(options: Readonly<Record<string, CeOptionValue>>): Promise<void> {
    if (this.settingCalls === 0 && !nameRuleFor(this.params, options)) return this.applyParameters(options);
    this.settingCalls++;
    const run = this.setting.then(() => this.applyParameters(options));
    this.setting = run.then(
      () => this.settingCalls--,
      () => this.settingCalls--,
    );
    return run;
  }

  private async applyParameters(options: Readonly<Record<string, CeOptionValue>>): Promise<void> {
    const loading = nameRuleFor(this.params, options);
    if (loading) await loading;
    this.params = mergedOptions(this.params, options);
    await this.reset();
    for (const p of unknownOptionProblems(Object.keys(options)))
      this.log.warn(`option ignored: ${p.option}: ${p.text}`);
  }

  /** Waits for the setParameters calls made before, so that a call uses their options. */
  private async settled(): Promise<void> {
    if (this.settingCalls > 0) await this.setting;
  }

  getParameters(): Record<string, string> {
    return { ...this.params };
  }

  async isValid(online: boolean): Promise<Validity> {
    await this.settled();
    const input = {
      params: this.params,
      baseDir: this.baseDir,
      ensure: () => this.ensure(),
      renderer: () => this.getRenderer(),
      assessment: () => this.credentialAssessment(),
    };
    return checkValidity(input, online);
  }

  async submitJob(
    executableFile: string,
    proxy: string | null | undefined,
    count: number,
    opts: SubmitOptions = {},
  ): Promise<SubmitAnswer> {
    checkPilotCount(count, this.terms.count);
    await this.settled();
    const key = opts.submission === undefined ? undefined : checkSubmissionKey(opts.submission);
    if (proxy) await this.held.setProxy(proxy);
    const input = {
      ensure: () => this.ensure(),
      renderer: () => this.getRenderer(),
      log: this.log,
      held: this.held,
      terms: this.terms,
      submitted: (n: number) => {
        this.submittedJobs += n;
      },
    };
    return this.recent.changing(() => submitPilots(input, executableFile, count, key, opts));
  }

  async recoverSubmission(key: string): Promise<SubmitAnswer> {
    await this.settled();
    const ctx = this.ensure();
    const checked = checkSubmissionKey(key);
    return recoveredAnswer(ctx, checked, await submissionNodes(ctx, checked));
  }

  async renderUserData(executableFile: string): Promise<RenderedUserData> {
    await this.settled();
    const render = () => this.getRenderer();
    return renderPilotUserData(this.ensure(), render, this.ceName, executableFile, this.terms.executable);
  }

  async getJobStatus(refs: readonly string[]): Promise<Record<string, PilotStatus>> {
    await this.settled();
    return pilotStatuses(this.ensure(), refs);
  }

  async listPilots(): Promise<PilotInfo[]> {
    await this.settled();
    return pilotInfos(this.ensure());
  }

  async getCEStatus(): Promise<CEStatusCounts & PolicyInfo> {
    await this.settled();
    const ctx = this.ensure();
    const nodes = await listQueueNodes(ctx);
    await ctx.policies.observe(nodes);
    const status = {
      ...countNodes(nodes, this.submittedJobs),
      ...policyInfo(ctx.policies, await this.credentialAssessment()),
    };
    ctx.observer?.policies?.(status);
    return status;
  }

  async available(): Promise<Availability> {
    await this.settled();
    const ctx = this.ensure();
    const result = await availableUnderPolicies(ctx, this.submittedJobs, await this.credentialAssessment());
    ctx.observer?.slots?.(result.Value);
    ctx.observer?.policies?.(result.CEInfoDict);
    const { SubmittedJobs, RunningJobs, WaitingJobs } = result;
    return { slots: result.Value, counts: { SubmittedJobs, RunningJobs, WaitingJobs }, info: result.CEInfoDict };
  }

  /** Every pilot's fate: killed, already gone, or failed with why; never throws for a failed delete. */
  async killPilots(refs: readonly string[]): Promise<KillReport> {
    await this.settled();
    return this.recent.changing(() => killPilots(this.ensure(), refs));
  }

  async cleanupPilots(opts: { readonly signal?: AbortSignal; readonly dryRun?: boolean } = {}): Promise<CleanupReport> {
    await this.settled();
    const ctx = this.ensure();
    const stop = { ...(opts.signal ? { signal: opts.signal } : {}), graceMs: ctx.settings.requestTimeoutMs };
    return cleanupOwnPilots(ctx, stop, opts.dryRun === true);
  }

  async getJobOutput(ref: string): Promise<string> {
    await this.settled();
    return readPilotOutput(this.ensure(), ref);
  }

  describe(ceType: string): Record<string, string | number> {
    return describeCe(this.params, this.ceName, ceType);
  }

  /** Keeps the proxy; `valid` (seconds, > 0) bounds its use whatever its certificates say. */
  async setProxy(proxy: string, valid = 0, file?: string): Promise<void> {
    if (typeof proxy !== "string")
      throw new CloudceError("ProxyInvalid", `setProxy: expects the proxy as a PEM string, got ${kindOf(proxy)}`);
    await this.held.setProxy(proxy, valid);
    this.held.proxyFile = file;
  }

  /** The proxy's seconds left; throws when fewer than `valid` remain. */
  async proxySecondsLeft(valid: number): Promise<number> {
    if (!this.held.proxyPem) throw new CloudceError("ProxyMissing", `no proxy set: ${this.terms.giveProxy}`);
    return this.held.proxySecondsLeft(valid);
  }

  setToken(token: string): void {
    if (typeof token !== "string")
      throw new CloudceError("TokenMissing", `setToken: expects the bearer token as a string, got ${kindOf(token)}`);
    this.held.setToken(token);
  }

  /** One Cloud_RequestTimeout; 0 before any call built the cloud context, as nothing can be running then. */
  get stopGraceMs(): number {
    return this.state?.settings.requestTimeoutMs ?? 0;
  }

  /** Releases the driver and removes the private proxy file. */
  async shutdown(): Promise<void> {
    await this.settled();
    await this.reset();
  }

  /** Builds the settings, credentials and driver runtime for the current options. */
  private ensure(): CeContext {
    this.state ??= buildCeContext({
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
      recent: this.recent,
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
    this.recent.forget();
    this.renderer = undefined;
    if (old) await Promise.all([old.runtime.close(), old.credentials.close()]);
  }
}
